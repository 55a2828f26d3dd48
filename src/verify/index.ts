/**
 * `verify`: checks that a root and every block that a level needs are present and intact,
 * and that each level of each image decodes to the size its root states. Unlike `get`, it
 * does not stop at the first problem: it lists every missing or corrupt block and every
 * level that does not decode, naming the image, the level and the block.
 */
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { getDefaultPool, type CodecPool } from '../codec/index.js'
import { BlockVerificationError, CodecError, CodestreamError, FormatError, MissingBlockError, MistError, UsageError } from '../errors.js'
import { levelDirectories } from '../level/blocks.js'
import { openRoot, planEntry, planImageLevel, planSlice, rootEntries, volumeSliceRoots, walkLevel, type AnyRoot, type EntrySelection, type ImagePlan, type LevelSelection, type NeededBlock, type PlanReadOptions, type VolumePlan } from '../level/index.js'
import type { BlockSource, Repo } from '../repo/index.js'
import { decodeImageLevel } from '../retrieve/image-level.js'
import { cidKey, cidText } from '../util/cid-key.js'
import { CidSet } from '../util/cid-set.js'
import type { OperationOptions, ProgressEvent } from '../types.js'

/** What went wrong with one block or level. */
export type ProblemKind = 'missing' | 'corrupt' | 'format' | 'decode' | 'error'

export interface VerifyProblem {
  kind: ProblemKind
  /** Dataset entry name (with ` slice z` for volume slices) or the root CID. */
  name: string
  /** The level concerned, when the problem belongs to one level. */
  level?: number
  /** The block concerned, when there is one. */
  block?: string
  /** The error's class name (MissingBlockError, BlockVerificationError, FormatError, CodecError...). */
  error: string
  message: string
}

export interface VerifyResult {
  root: string
  kind: 'image' | 'volume' | 'dataset' | 'unknown'
  ok: boolean
  /** Images (2D images and volume slices) whose blocks were checked. */
  images: number
  /** Distinct blocks checked (read and hashed). */
  blocks: number
  bytes: number
  /** Image levels decoded and found to have their stated size. */
  levelsDecoded: number
  problems: VerifyProblem[]
  /** Corrupt blocks removed from the repo (`dropCorrupt`), so a mirror or get fetches them again. */
  dropped?: number
}

export interface VerifyOptions extends LevelSelection, EntrySelection, OperationOptions<ProgressEvent<'verify:image', { name: string }>> {
  pool?: CodecPool
  /** Also decode every level 0..K of every image (default true). */
  decode?: boolean
  /** Stop listing after this many problems (default 1000). */
  maxProblems?: number
  /** Remove from the repo each block found corrupt (its bytes do not hash to its CID); needs the repo itself, not a running serve. */
  dropCorrupt?: boolean
}

/** Removes from the repo's blockstore every block `result` found corrupt; how many were removed. */
export async function dropCorruptBlocks (repo: Repo, result: VerifyResult): Promise<number> {
  const corrupt = new Set(result.problems.filter(p => p.kind === 'corrupt' && p.error === 'BlockVerificationError' && p.block != null).map(p => p.block as string))
  for (const block of corrupt) await repo.blockstore.delete(CID.parse(block))
  return corrupt.size
}

/** Errors that crossed a worker or the control socket are rebuilt as their classes (codec pool, wire-errors.ts). */
function classify (err: unknown): ProblemKind {
  if (err instanceof MissingBlockError) return 'missing'
  if (err instanceof BlockVerificationError) return 'corrupt'
  if (err instanceof FormatError) return 'format'
  if (err instanceof CodecError || err instanceof CodestreamError) return 'decode'
  return 'error'
}

/**
 * Verifies `cid` (an image, volume or dataset root) up to the selected level (default: full)
 * through `source` (a repo: offline; a NetworkStore: missing blocks are fetched first).
 * Never throws for a problem in the data: problems are listed in the result. Throws only for
 * usage errors and when aborted.
 */
export async function verifyRoot (source: BlockSource, cid: CID, options: VerifyOptions = {}): Promise<VerifyResult> {
  const { signal } = options
  const maxProblems = options.maxProblems ?? 1000
  const result: VerifyResult = { root: cid.toString(), kind: 'unknown', ok: false, images: 0, blocks: 0, bytes: 0, levelsDecoded: 0, problems: [] }
  // every block checked, once however many images share it; the few that failed, by key
  const checked = new CidSet()
  const failed = new Set<string>()
  const pool = options.pool ?? getDefaultPool()
  const doDecode = options.decode !== false

  const problem = (p: VerifyProblem): void => {
    if (result.problems.length < maxProblems) result.problems.push(p)
  }
  const rethrowAbort = (err: any): void => {
    if (signal?.aborted === true || err?.name === 'AbortError') throw err
    if (err instanceof UsageError) throw err
  }
  const describe = (err: any): { error: string, message: string } => ({ error: err?.name ?? 'Error', message: err?.message ?? String(err) })

  /** Reads (and so hashes) one block once; records a problem and returns false when it fails. */
  const checkBlock = async (block: { cid: CID, size?: number }, name: string, level?: number): Promise<boolean> => {
    if (checked.has(block.cid)) return !failed.has(cidKey(block.cid))
    const key = cidText(block.cid)
    let ok = true
    try {
      const bytes = await source.get(block.cid, { signal })
      if (block.size != null && bytes.byteLength !== block.size) {
        problem({ kind: 'corrupt', name, level, block: key, error: 'FormatError', message: `${name}: block ${key} holds ${bytes.byteLength} bytes but the root says ${block.size}` })
        ok = false
      }
      result.blocks++
      result.bytes += bytes.byteLength
    } catch (err: any) {
      rethrowAbort(err)
      problem({ kind: classify(err), name, level, block: key, ...describe(err) })
      ok = false
    }
    checked.add(block.cid)
    if (!ok) failed.add(cidKey(block.cid))
    return ok
  }

  /** The raw leaves that a UnixFS level file links to, in order (reading its nodes). */
  const fileLeaves = async (file: CID, depth = 0): Promise<string[]> => {
    if (depth > 8) throw new MistError(`level file ${file} is nested deeper than 8 levels`)
    const node = dagPb.decode(await source.get(file, { signal }))
    const out: string[] = []
    for (const link of node.Links) {
      if (link.Hash.code === dagPb.code) out.push(...await fileLeaves(link.Hash, depth + 1))
      else out.push(link.Hash.toString())
    }
    return out
  }

  /** Counts each structural block once as the plan reads it (it is hashed by the read). */
  const reading: PlanReadOptions = {
    signal,
    onRead: (c, _role, _name, bytes) => {
      if (!checked.add(c)) return
      result.blocks++
      result.bytes += bytes
    }
  }

  /** One image (2D image or volume slice) at its planned level: blocks via walkLevel, level files, decodes. */
  const image = async (plan: ImagePlan): Promise<void> => {
    const { name, root, cid: imageCid, level: k } = plan
    options.onProgress?.({ type: 'verify:image', detail: { name } })
    result.images++
    // every block the level needs: the walk reads the structural ones (root, level files), leaves are visited
    const leaves: NeededBlock[] = []
    let walkOk = true
    try {
      await walkLevel(source, imageCid, b => { if (!b.fetched) leaves.push(b) }, { level: k, levelFiles: true, signal, onRead: reading.onRead })
    } catch (err: any) {
      rethrowAbort(err)
      walkOk = false
      problem({ kind: classify(err), name, level: k, block: blockOf(err), ...describe(err) })
    }
    const bad = new Set<number>()
    for (const leaf of leaves) {
      // a leaf is reported at the first (coarsest) level that needs it; that level and every finer one cannot decode
      const index = leaf.role === 'leaf' ? root.leaves.findIndex(l => l.cid.equals(leaf.cid)) : -1
      const first = index >= 0 ? root.levels.find(l => l.leaves > index)?.level : undefined
      const ok = await checkBlock(leaf, name, first)
      if (!ok) for (const l of root.levels) if (index < 0 || l.leaves > index) bad.add(l.level)
    }
    if (!walkOk) return
    // each level file must hold exactly the root's leaves for that level, then the EOC leaf
    for (const l of root.levels.slice(0, k + 1)) {
      try {
        const got = await fileLeaves(l.file)
        const want = [...root.leaves.slice(0, l.leaves).map(x => x.cid.toString()), root.eoc.toString()]
        if (got.length !== want.length || got.some((c, i) => c !== want[i])) {
          problem({ kind: 'format', name, level: l.level, block: l.file.toString(), error: 'FormatError', message: `${name}: the level file ${l.file} of level ${l.level} links ${got.length} blocks that are not the root's ${l.leaves} leaves + EOC` })
        }
      } catch (err: any) {
        rethrowAbort(err)
        problem({ kind: classify(err), name, level: l.level, block: l.file.toString(), ...describe(err) })
      }
    }
    if (!doDecode) return
    for (let level = 0; level <= k; level++) {
      if (bad.has(level)) continue
      try {
        await decodeImageLevel(source, planImageLevel(imageCid, root, level, name), { pool, signal })
        result.levelsDecoded++
      } catch (err: any) {
        rethrowAbort(err)
        problem({ kind: classify(err), name, level, ...describe(err) })
      }
    }
  }

  const volume = async (plan: VolumePlan): Promise<void> => {
    let z = 0
    try {
      for await (const s of volumeSliceRoots(source, plan, reading)) {
        const at = z++
        let slice: ImagePlan
        try {
          slice = await planSlice(source, plan, at, s, reading)
        } catch (err: any) {
          rethrowAbort(err)
          problem({ kind: classify(err), name: `${plan.name} slice ${at}`, block: s.toString(), ...describe(err) })
          continue
        }
        await image(slice)
      }
    } catch (err: any) {
      rethrowAbort(err)
      problem({ kind: classify(err), name: plan.name, block: blockOf(err) ?? plan.cid.toString(), ...describe(err) })
    }
  }

  let top: AnyRoot
  try {
    top = await openRoot(source, cid, reading)
    result.kind = top.kind
  } catch (err: any) {
    rethrowAbort(err)
    problem({ kind: classify(err), name: cid.toString(), block: cid.toString(), ...describe(err) })
    return finish(result)
  }
  const selection: LevelSelection = { level: options.level, size: options.size }
  try {
    for await (const ref of rootEntries(source, top, { ...reading, path: options.path, include: options.include, exclude: options.exclude })) {
      signal?.throwIfAborted()
      let plan
      try {
        plan = await planEntry(source, ref, selection, reading)
      } catch (err: any) {
        rethrowAbort(err)
        problem({ kind: classify(err), name: ref.name, block: blockOf(err) ?? ref.cid.toString(), ...describe(err) })
        continue
      }
      if (plan.kind === 'image') await image(plan)
      else await volume(plan)
    }
  } catch (err: any) {
    rethrowAbort(err)
    problem({ kind: classify(err), name: cid.toString(), block: blockOf(err), ...describe(err) })
  }
  // a version-2 dataset verified whole at a level: its level directories 0..K too (the walk reads
  // each directory node and refuses one that links anything but those levels' files)
  const entrySelection = { path: options.path, include: options.include, exclude: options.exclude }
  if (result.problems.length === 0 && levelDirectories(top, { ...selection, ...entrySelection }).length > 0) {
    try {
      await walkLevel(source, cid, () => {}, { ...selection, ...entrySelection, levelFiles: true, signal, onRead: reading.onRead })
    } catch (err: any) {
      rethrowAbort(err)
      problem({ kind: classify(err), name: cid.toString(), block: blockOf(err), ...describe(err) })
    }
  }
  return finish(result)
}

function finish (result: VerifyResult): VerifyResult {
  result.ok = result.problems.length === 0
  return result
}

/** The first CID named in an error message, if any (to point at the block concerned). */
function blockOf (err: any): string | undefined {
  const m = /\b(baf[a-z2-7]{20,})\b/.exec(String(err?.message ?? ''))
  return m?.[1]
}
