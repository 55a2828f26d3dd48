import { statfsSync } from 'node:fs'
import { chmod, statfs } from 'node:fs/promises'
import { join } from 'node:path'
import { open as openLmdb, type Database, type RootDatabase } from 'lmdb'
import { NotFoundError, PutFailedError } from 'interface-store'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { makePrivateDir, PRIVATE_FILE_MODE } from './private-fs.js'
import type { AbortOptions } from '../types.js'

/** The database file in `<repo>/blocks/` (LMDB keeps its lock file beside it, `data.mdb-lock`). */
export const LMDB_FILE = 'data.mdb'
const RAW = 0x55

type Bytes = Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>

/** A time in the same clock as file mtimes, never earlier than the kernel's coarse timestamp of a file written before (gc's start marker). */
function usedNow (): number {
  return performance.timeOrigin + performance.now() + 1
}

/** A value given in chunks, joined into a buffer of its own. */
async function joinChunks (val: Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<Buffer> {
  const chunks: Uint8Array[] = []
  for await (const c of val) chunks.push(c)
  return Buffer.concat(chunks)
}

/** Where a store's blocks live and how (one place, for the store and its read-only readers). */
const BLOCKS_TABLE = { name: 'blocks', encoding: 'binary', keyEncoding: 'binary', compression: false } as const

/**
 * Free space kept on the repo's file system: a put that would leave less is refused with ENOSPC
 * before LMDB sees it, because lmdb's native writer does not survive a full disk cleanly (a failed
 * commit leaves an unhandled rejection, a close that never returns, at times a corrupted heap).
 */
export const SPACE_RESERVE = 64 * 1024 * 1024
/** Free space is looked up again after this many bytes were written. */
const SPACE_CHECK_EVERY = 4 * 1024 * 1024

async function describeWriteFailure (path: string, cause: any): Promise<string> {
  const what = `${path}: cannot write to the block database: ${cause?.message ?? cause}`
  const fsInfo = await statfs(path).catch(() => undefined)
  const free = fsInfo != null ? fsInfo.bavail * fsInfo.bsize : undefined
  if (cause?.code === 'ENOSPC' || (free != null && free < SPACE_RESERVE)) {
    return `${what} (ENOSPC: no space left on the file system holding the repo, ${free ?? 0} bytes free). Free some space or use a repo on a larger disk (--repo DIR)`
  }
  return what
}

/**
 * The repo's blocks in one LMDB database (`<repo>/blocks/data.mdb`) instead of a file per block:
 * an archive of 100,000 images was 500,000 files, each created at ~0.4 ms of kernel time, walked by
 * verify and gc and copied by backups (bench/BLOCKSTORES.md, bench/SCALE.md, docs/DESIGN.md).
 * Keys are multihashes (as blockstore-fs files them), so any CID of the same bytes finds the block.
 * A second table holds when each block was last written or used (`touch`): gc spares what was
 * used after it began, as the fs store's mtimes do (src/gc/sweep-lmdb.ts).
 * Writes are LMDB's batched transactions: every put in one event-loop turn commits together,
 * crash-safe (a killed process loses at most the uncommitted batch, never the database).
 */
export class LmdbBlockstore {
  readonly kind = 'lmdb' as const
  private env: RootDatabase | undefined
  private sinceSpaceCheck = Infinity
  private blocks!: Database<Buffer, Uint8Array>
  private used!: Database<number, Uint8Array>

  constructor (readonly path: string) {}

  /**
   * How many blocks the database in `dir` holds, read without taking the repo's lock (LMDB's
   * readers run beside its one writer): 0 while the writer has not made its table yet.
   */
  static async countReadOnly (dir: string): Promise<number> {
    const env = openLmdb({ path: join(dir, LMDB_FILE), readOnly: true, maxDbs: 4 })
    try {
      return env.openDB(BLOCKS_TABLE).getCount()
    } catch {
      return 0
    } finally {
      await env.close()
    }
  }

  async open (): Promise<void> {
    await makePrivateDir(this.path)
    this.env = openLmdb({ path: join(this.path, LMDB_FILE), maxDbs: 4, compression: false })
    this.blocks = this.env.openDB<Buffer, Uint8Array>(BLOCKS_TABLE)
    this.used = this.env.openDB<number, Uint8Array>({ name: 'used', keyEncoding: 'binary' })
    // LMDB creates its files 0644 less the umask: the repo's files are 0600 (private-fs.ts)
    for (const file of [LMDB_FILE, `${LMDB_FILE}-lock`]) await chmod(join(this.path, file), PRIVATE_FILE_MODE).catch(() => {})
  }

  async close (): Promise<void> {
    const env = this.env
    this.env = undefined
    if (env != null) await env.close()
  }

  /**
   * Runs a write; a failed commit becomes a PutFailedError naming its real cause (lmdb reports
   * it on a separate promise, unhandled unless taken here) and, on a full disk, saying so.
   */
  private async write<T> (fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (err: any) {
      const cause = err?.commitError != null ? await Promise.resolve(err.commitError).then(() => err, (e: unknown) => e) : err
      throw new PutFailedError(await describeWriteFailure(this.path, cause))
    }
  }

  /** Refuses a write that would leave less than SPACE_RESERVE free (looked up every few MiB). */
  private checkSpace (adding: number): void {
    this.sinceSpaceCheck += adding
    if (this.sinceSpaceCheck < SPACE_CHECK_EVERY) return
    let free: number
    try {
      const info = statfsSync(this.path)
      free = info.bavail * info.bsize
    } catch {
      return // a file system that cannot say: let LMDB try
    }
    if (free - adding < SPACE_RESERVE) {
      throw new PutFailedError(`${this.path}: cannot write to the block database (ENOSPC: no space left on the file system holding the repo, ${free} bytes free; mist-p2p keeps ${SPACE_RESERVE / 1024 / 1024} MiB free). Free some space or use a repo on a larger disk (--repo DIR)`)
    }
    // near the reserve, look at every write; far from it, every few MiB
    this.sinceSpaceCheck = free - SPACE_RESERVE < 4 * SPACE_CHECK_EVERY ? Infinity : 0
  }

  private key (cid: CID): Uint8Array {
    return cid.multihash.bytes
  }

  async has (cid: CID, options?: AbortOptions): Promise<boolean> {
    options?.signal?.throwIfAborted()
    return this.blocks.doesExist(this.key(cid))
  }

  async put (cid: CID, val: Bytes, options?: AbortOptions): Promise<CID> {
    options?.signal?.throwIfAborted()
    // LMDB's writer reads the value when the batch commits: a copy, taken before any await, so a
    // caller may reuse or transfer its buffer as soon as put is called
    const bytes = val instanceof Uint8Array ? Buffer.from(val) : await joinChunks(val)
    const key = this.key(cid)
    this.checkSpace(bytes.byteLength)
    await this.write(async () => Promise.all([this.blocks.put(key, bytes), this.used.put(key, usedNow())]))
    return cid
  }

  async * putMany (source: Iterable<{ cid: CID, bytes: Bytes }> | AsyncIterable<{ cid: CID, bytes: Bytes }>, options?: AbortOptions): AsyncGenerator<CID> {
    for await (const { cid, bytes } of source) yield await this.put(cid, bytes, options)
  }

  async * get (cid: CID, options?: AbortOptions): AsyncGenerator<Uint8Array> {
    options?.signal?.throwIfAborted()
    const bytes = this.blocks.getBinary(this.key(cid))
    if (bytes == null) throw new NotFoundError(`block ${cid} is not in ${this.path}`)
    yield new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }

  async * getMany (source: Iterable<CID> | AsyncIterable<CID>, options?: AbortOptions): AsyncGenerator<{ cid: CID, bytes: AsyncGenerator<Uint8Array> }> {
    for await (const cid of source) yield { cid, bytes: this.get(cid, options) }
  }

  async delete (cid: CID, options?: AbortOptions): Promise<void> {
    options?.signal?.throwIfAborted()
    const key = this.key(cid)
    await this.write(async () => this.blocks.transaction(() => { this.blocks.removeSync(key); this.used.removeSync(key) }))
  }

  async * deleteMany (source: Iterable<CID> | AsyncIterable<CID>, options?: AbortOptions): AsyncGenerator<CID> {
    for await (const cid of source) { await this.delete(cid, options); yield cid }
  }

  /** Every block, as a raw-codec CID of its multihash (as blockstore-fs lists them). */
  async * getAll (options?: AbortOptions): AsyncGenerator<{ cid: CID, bytes: AsyncGenerator<Uint8Array> }> {
    for await (const page of this.keyPages()) {
      for (const key of page) {
        options?.signal?.throwIfAborted()
        const cid = CID.createV1(RAW, Digest.decode(key))
        yield { cid, bytes: this.get(cid, options) }
      }
    }
  }

  /**
   * The multihash of every block held, in key order, a page at a time: each page is its own short
   * read, so no read transaction stays open while the caller writes (gc) or waits.
   */
  async * keyPages (size = 1024): AsyncGenerator<Uint8Array[]> {
    let after: Uint8Array | undefined
    for (;;) {
      const page: Uint8Array[] = []
      for (const key of this.blocks.getKeys({ start: after as Buffer | undefined, limit: size + 1 })) {
        const k = key as Uint8Array
        if (after != null && Buffer.compare(k, after) === 0) continue
        if (page.length === size) break
        page.push(Buffer.from(k))
      }
      if (page.length === 0) return
      yield page
      after = page[page.length - 1]
    }
  }

  /**
   * Whether the block is held, and if so marks it as just used, in one transaction ordered with
   * gc's removals (sweep-lmdb.ts): a block reported held is not removed by a gc that began before.
   */
  async touch (cid: CID): Promise<boolean> {
    const key = this.key(cid)
    if (!this.blocks.doesExist(key)) return false
    return this.write(async () => this.blocks.transaction(() => {
      if (!this.blocks.doesExist(key)) return false
      this.used.putSync(key, usedNow())
      return true
    }))
  }

  /**
   * Removes, in one transaction, each of `keys` not used since `cutoffMs`; the rest are counted
   * recent. Runs in LMDB's write order, after any touch queued before it.
   */
  async removeUnused (keys: Uint8Array[], cutoffMs: number): Promise<{ removed: number, bytes: number, recent: number }> {
    return this.write(async () => this.blocks.transaction(() => {
      const out = { removed: 0, bytes: 0, recent: 0 }
      for (const key of keys) {
        const bytes = this.blocks.getBinary(key)
        if (bytes == null) continue
        if ((this.used.get(key) ?? 0) >= cutoffMs) { out.recent++; continue }
        out.bytes += bytes.byteLength
        this.blocks.removeSync(key)
        this.used.removeSync(key)
        out.removed++
      }
      return out
    }))
  }

  /** Test and repair hook: overwrites a block's stored bytes as they are (no hash check). */
  async overwrite (cid: CID, bytes: Uint8Array): Promise<void> {
    await this.write(async () => this.blocks.put(this.key(cid), Buffer.from(bytes)))
  }
}
