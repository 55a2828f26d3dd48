/**
 * `GET /mist/<root>[/<entry path>]` without `format`: what a root holds, as JSON, for the viewer
 * and scripts. A dataset lists its entries a page at a time (`limit`, then `after` = the last
 * name of the page, as `next` says) with each entry's levels; an image lists its levels and
 * leaves (so a client can fetch and verify exactly a level's blocks from /ipfs/); a volume its
 * levels, and `?slice=z` gives the image root of one slice.
 */
import PQueue from 'p-queue'
import type { CID } from 'multiformats/cid'
import type { ImageRoot, VolumeRoot } from '../chunker/index.js'
import { HttpRequestError } from '../errors.js'
import { lookupEntry, openRoot, planEntry, rootEntries, volumeSliceRoots, type AnyRoot, type VolumePlan } from '../level/index.js'
import type { BlockSource } from '../repo/index.js'
import type { AbortOptions } from '../types.js'

/** Entries per page unless asked; at most MAX_LIMIT (each costs a root read). */
export const DEFAULT_LIMIT = 100
export const MAX_LIMIT = 1000

function levels (ls: Array<{ level: number, width: number, height: number, bytes: number }>): Array<{ level: number, width: number, height: number, bytes: number }> {
  return ls.map(l => ({ level: l.level, width: l.width, height: l.height, bytes: l.bytes }))
}

export function describeImage (cid: CID, root: ImageRoot): Record<string, unknown> {
  return {
    root: cid.toString(),
    kind: 'image',
    width: root.width,
    height: root.height,
    components: root.components,
    bitsStored: root.bitsStored,
    signed: root.signed,
    decompositions: root.codestream.decompositions,
    meta: root.meta,
    levels: root.levels.map(l => ({ level: l.level, width: l.width, height: l.height, bytes: l.bytes, end: l.end, leaves: l.leaves, file: l.file.toString() })),
    leaves: root.leaves.map(l => ({ cid: l.cid.toString(), size: l.size })),
    eoc: root.eoc.toString()
  }
}

export function describeVolume (cid: CID, root: VolumeRoot): Record<string, unknown> {
  const finest = root.levels[root.levels.length - 1]
  return { root: cid.toString(), kind: 'volume', width: finest.width, height: finest.height, slices: root.sliceCount, meta: root.meta, levels: levels(root.levels) }
}

/** One entry of a dataset page: its kind, size and levels (read from its root). */
async function describeEntry (source: BlockSource, ref: { name: string, cid: CID, kind?: 'image' | 'volume' }, options: AbortOptions): Promise<Record<string, unknown>> {
  const plan = await planEntry(source, { ...ref, clamp: true }, { level: 0 }, options)
  const base = { name: ref.name, root: ref.cid.toString(), kind: plan.kind }
  if (plan.kind === 'image') {
    const r = plan.root
    return { ...base, width: r.width, height: r.height, bitsStored: r.bitsStored, signed: r.signed, modality: r.meta.modality, sourceFormat: r.meta.sourceFormat, levels: levels(r.levels) }
  }
  const r = plan.root
  const finest = r.levels[r.levels.length - 1]
  return { ...base, width: finest.width, height: finest.height, slices: r.sliceCount, modality: r.meta.modality, sourceFormat: r.meta.sourceFormat, levels: levels(r.levels) }
}

function intParam (url: URL, name: string, min: number, max: number): number | undefined {
  const v = url.searchParams.get(name)
  if (v == null) return undefined
  if (!/^\d{1,10}$/.test(v) || Number(v) < min || Number(v) > max) throw new HttpRequestError(400, `${name}=${v.slice(0, 20)}: expected an integer from ${min} to ${max}`)
  return Number(v)
}

/** The root a request names, or the dataset entry under it (404 when the dataset has no such entry). */
export async function resolveTarget (source: BlockSource, root: CID, path: string | undefined, options: AbortOptions): Promise<{ top: AnyRoot, target: AnyRoot, name: string }> {
  const top = await openRoot(source, root, options)
  if (path == null) return { top, target: top, name: root.toString() }
  if (top.kind !== 'dataset') throw new HttpRequestError(404, `${root} is ${top.kind === 'image' ? 'an image' : 'a volume'} root: it has no entry "${path}"`)
  const entry = await lookupEntry(source, top, path, options)
  if (entry == null) throw new HttpRequestError(404, `${root} has no entry "${path}" (GET /mist/${root} lists its entries)`)
  return { top, target: await openRoot(source, entry.root, options), name: entry.name }
}

/** The slice root of volume `target` at z (404 past the last slice). */
export async function sliceRoot (source: BlockSource, target: AnyRoot & { kind: 'volume' }, z: number, name: string, options: AbortOptions): Promise<{ cid: CID, root: ImageRoot }> {
  if (z >= target.root.sliceCount) throw new HttpRequestError(404, `${name} has ${target.root.sliceCount} slices: slice ${z} does not exist`)
  const plan: VolumePlan = { kind: 'volume', name, cid: target.cid, root: target.root, level: 0, width: 0, height: 0, bytes: 0 }
  let i = 0
  for await (const cid of volumeSliceRoots(source, plan, options)) {
    if (i++ === z) {
      const found = await openRoot(source, cid, options)
      if (found.kind !== 'image') throw new HttpRequestError(502, `${name}: slice ${z} (${cid}) is not an image root`)
      return { cid, root: found.root }
    }
  }
  throw new HttpRequestError(502, `${name}: its volume root lists fewer slices than it says (${target.root.sliceCount})`)
}

/** The JSON document for `/mist/<root>[/<path>]`. */
export async function mistJson (source: BlockSource, root: CID, path: string | undefined, url: URL, options: AbortOptions): Promise<Record<string, unknown>> {
  const { target, name } = await resolveTarget(source, root, path, options)
  const z = intParam(url, 'slice', 0, 2 ** 31 - 1)
  if (z != null) {
    if (target.kind !== 'volume') throw new HttpRequestError(400, `${name} is not a volume: slice= applies to volumes`)
    const s = await sliceRoot(source, target, z, name, options)
    return { ...describeImage(s.cid, s.root), slice: z, volume: target.cid.toString() }
  }
  if (target.kind === 'image') return { ...describeImage(target.cid, target.root), ...(path != null ? { name } : {}) }
  if (target.kind === 'volume') return { ...describeVolume(target.cid, target.root), ...(path != null ? { name } : {}) }

  const limit = intParam(url, 'limit', 1, MAX_LIMIT) ?? DEFAULT_LIMIT
  const after = url.searchParams.get('after') ?? undefined
  const refs: Array<{ name: string, cid: CID, kind?: 'image' | 'volume' }> = []
  let more = false
  for await (const ref of rootEntries(source, target, { signal: options.signal, after })) {
    if (refs.length === limit) { more = true; break }
    refs.push(ref)
  }
  // the page's roots are read a few at a time (each may come from a peer)
  const queue = new PQueue({ concurrency: 8 })
  const entries = await Promise.all(refs.map(async ref => queue.add(async () => describeEntry(source, ref, options))))
  const r = target.root
  return {
    root: target.cid.toString(),
    kind: 'dataset',
    count: r.count,
    total: r.total,
    levels: r.levels,
    entries,
    next: more ? refs[refs.length - 1].name : null
  }
}
