/**
 * The sweep phase of gc: removes every block file that no record keeps and that nobody has used
 * since `cutoffMs` (the mtime of gc's start marker, or of the oldest live pending lease). A block
 * is first renamed aside (`.<file>.gc`), then its mtime is read again: a writer that touched it
 * before the rename is seen and the block is put back; one that touches it after finds it gone
 * and writes it again. A gc killed between the two steps leaves the `.gc` file, which the next
 * run puts back before deciding again, so no kill can lose a block that is still needed.
 */
import { lstat, readdir, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { base32upper } from 'multiformats/bases/base32'
import { blockKey } from './mark.js'
import type { AbortOptions } from '../types.js'

const EXT = '.data'
const ASIDE = '.gc'

export interface SweepResult {
  /** Block files removed and their bytes. */
  blocks: number
  bytes: number
  /** Unkept blocks spared because they were written or used after the cutoff. */
  recent: number
  /** Blocks a killed gc had set aside and this run put back first. */
  restored: number
  /** Temp files of killed writers removed. */
  tempFiles: number
}

export interface SweepOptions extends AbortOptions {
  onBlock?: (bytes: number) => void
}

/** The multihash key of a block file name, or undefined for a name that is not one. */
function keyOf (file: string): string | undefined {
  if (!file.endsWith(EXT)) return undefined
  try {
    return blockKey(base32upper.decode(file.slice(0, -EXT.length)))
  } catch {
    return undefined
  }
}

export async function sweepBlocks (blocksDir: string, live: Set<string>, cutoffMs: number, options: SweepOptions = {}): Promise<SweepResult> {
  const result: SweepResult = { blocks: 0, bytes: 0, recent: 0, restored: 0, tempFiles: 0 }
  const consider = async (dir: string, file: string): Promise<void> => {
    const key = keyOf(file)
    if (key == null || live.has(key)) return
    const path = join(dir, file)
    const st = await lstat(path).catch(() => undefined)
    if (st == null || !st.isFile()) return
    if (st.mtimeMs >= cutoffMs) { result.recent++; return }
    const aside = join(dir, `.${file}${ASIDE}`)
    try {
      await rename(path, aside)
    } catch (err: any) {
      if (err?.code === 'ENOENT') return
      throw err
    }
    const again = await lstat(aside)
    if (again.mtimeMs >= cutoffMs) {
      // touched by a writer between our two looks: it relies on the block
      await rename(aside, path)
      result.recent++
      return
    }
    await unlink(aside)
    result.blocks++
    result.bytes += again.size
    options.onBlock?.(again.size)
  }

  const shards = await readdir(blocksDir, { withFileTypes: true }).catch((err: any) => { if (err?.code === 'ENOENT') return []; throw err })
  for (const shard of shards) {
    if (!shard.isDirectory()) continue
    const dir = join(blocksDir, shard.name)
    for (const name of await readdir(dir)) {
      options.signal?.throwIfAborted()
      if (name.startsWith('.') && name.endsWith(EXT + ASIDE)) {
        // set aside by a gc that was killed: put it back (unless it was written again), then decide anew
        const file = name.slice(1, -ASIDE.length)
        const back = await lstat(join(dir, file)).then(() => false, () => true)
        if (back) { await rename(join(dir, name), join(dir, file)); result.restored++ } else await unlink(join(dir, name)).catch(() => {})
        await consider(dir, file)
      } else if (name.startsWith('.') && name.endsWith('.tmp')) {
        // a writer's temp file: a live writer's is newer than the cutoff
        const st = await lstat(join(dir, name)).catch(() => undefined)
        if (st != null && st.mtimeMs < cutoffMs) { await unlink(join(dir, name)).catch(() => {}); result.tempFiles++ }
      } else {
        await consider(dir, name)
      }
    }
  }
  return result
}
