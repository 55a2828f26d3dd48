/**
 * The sweep phase of gc in an LMDB repo: removes every block that no record keeps and that nobody
 * has written or used since `cutoffMs`. Each page of candidates is re-checked and removed in one
 * write transaction, ordered after any `touch` queued before it (lmdb-blockstore.ts), so a block
 * a writer was told is held is never removed under it; a killed gc leaves whole transactions only.
 */
import { blockKey } from './mark.js'
import type { LmdbBlockstore } from '../repo/lmdb-blockstore.js'
import type { SweepOptions, SweepResult } from './sweep.js'

export async function sweepLmdb (store: LmdbBlockstore, live: Set<string>, cutoffMs: number, options: SweepOptions = {}): Promise<SweepResult> {
  const result: SweepResult = { blocks: 0, bytes: 0, recent: 0, restored: 0, tempFiles: 0 }
  for await (const page of store.keyPages()) {
    options.signal?.throwIfAborted()
    const unkept = page.filter(key => !live.has(blockKey(key)))
    if (unkept.length === 0) continue
    const { removed, bytes, recent } = await store.removeUnused(unkept, cutoffMs)
    result.blocks += removed
    result.bytes += bytes
    result.recent += recent
    if (removed > 0) options.onBlock?.(bytes)
  }
  return result
}
