/**
 * `gc`: removes the blocks no pin or mirror record keeps, safely beside writers and crash-safe.
 * The order is the safety argument (docs/DESIGN.md, "Removal: unpin and gc"):
 * 1. write the start marker `<repo>/gc.run`: its mtime is the start, in the block files' clock;
 * 2. list the live pending leases: the cutoff is the oldest of them and the start;
 * 3. list and mark the pins and mirror records;
 * 4. sweep every unmarked block not used since the cutoff.
 * A writer records its pin only after its lease, and removes its lease only after its pin: so a
 * pin gc did not list in 3 had its lease listed in 2, and every block it wrote or touched is newer
 * than the cutoff.
 */
import { lstat, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { UsageError } from '../errors.js'
import { listLeases, type MirrorSelection, type Repo } from '../repo/index.js'
import { PRIVATE_FILE_MODE } from '../repo/private-fs.js'
import type { OperationOptions, ProgressEvent } from '../types.js'
import { markRecords, type KeepRecord } from './mark.js'
import { sweepBlocks } from './sweep.js'
import { sweepLmdb } from './sweep-lmdb.js'

export type GcProgressEvent =
  | ProgressEvent<'gc:marked', { records: number, blocks: number }>
  | ProgressEvent<'gc:freed', { bytes: number }>

export interface GcOptions extends OperationOptions<GcProgressEvent> {}

export interface GcResult {
  /** Pins and mirror records whose blocks were kept. */
  records: number
  /** Distinct blocks they keep. */
  keptBlocks: number
  /** Blocks removed and their bytes. */
  freedBlocks: number
  freedBytes: number
  /** Unkept blocks left because a writer used them after the cutoff (freed by a later gc). */
  recentBlocks: number
  /** Live pending writers (publish, mirror, import through a running serve) when gc began. */
  pendingWriters: number
  /** A previous gc was interrupted: its set-aside blocks were put back first. */
  resumed: boolean
  restoredBlocks: number
}

export const GC_MARKER = 'gc.run'

/** Repos being collected by this process (serve runs one gc at a time; other processes are kept out by the repo lock). */
const running = new WeakSet<Repo>()

/** The records of a repo, pins first (a full mirror has both: its pin covers the mirror's walk). */
async function keepRecords (repo: Repo): Promise<KeepRecord[]> {
  const records: KeepRecord[] = []
  const pinned = new Set<string>()
  for await (const p of repo.pins()) { pinned.add(p.root); records.push({ root: CID.parse(p.root), selection: { level: 'full' }, what: 'pin' }) }
  for await (const m of repo.mirrors()) {
    if (pinned.has(m.root)) continue
    const selection: MirrorSelection = { ...m }
    delete (selection as any).root
    delete (selection as any).at
    records.push({ root: CID.parse(m.root), selection, what: 'mirror' })
  }
  return records
}

export async function collectGarbage (repo: Repo, options: GcOptions = {}): Promise<GcResult> {
  if (running.has(repo)) throw new UsageError(`a gc of ${repo.path} is already running in this node; wait for it to finish`)
  running.add(repo)
  try {
    const marker = join(repo.path, GC_MARKER)
    const resumed = await lstat(marker).then(() => true, () => false)
    await writeFile(marker, JSON.stringify({ pid: process.pid, started: new Date().toISOString() }), { mode: PRIVATE_FILE_MODE })
    const startMs = (await stat(marker)).mtimeMs
    const leases = await listLeases(repo.path)
    const cutoffMs = Math.min(startMs, ...leases.map(l => l.mtimeMs))
    const records = await keepRecords(repo)
    const live = new Set<string>()
    await markRecords(repo, records, live, { signal: options.signal })
    options.onProgress?.({ type: 'gc:marked', detail: { records: records.length, blocks: live.size } })
    const sweepOptions = { signal: options.signal, onBlock: (bytes: number) => options.onProgress?.({ type: 'gc:freed', detail: { bytes } }) }
    const swept = repo.blockstore.kind === 'lmdb'
      ? await sweepLmdb(repo.blockstore, live, cutoffMs, sweepOptions)
      : await sweepBlocks(join(repo.path, 'blocks'), live, cutoffMs, sweepOptions)
    await rm(marker, { force: true })
    return {
      records: records.length,
      keptBlocks: live.size,
      freedBlocks: swept.blocks,
      freedBytes: swept.bytes,
      recentBlocks: swept.recent,
      pendingWriters: leases.length,
      resumed,
      restoredBlocks: swept.restored
    }
  } finally {
    running.delete(repo)
  }
}
