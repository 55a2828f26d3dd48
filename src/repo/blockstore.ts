import { randomBytes } from 'node:crypto'
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs'
import fs from 'node:fs/promises'
import path from 'node:path'
import { FsBlockstore } from 'blockstore-fs'
import { NextToLast } from 'blockstore-fs/sharding'
import { NotFoundError, PutFailedError } from 'interface-store'
import type { CID } from 'multiformats/cid'
import { makePrivateDir, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-fs.js'
import type { AbortOptions } from '../types.js'

/**
 * blockstore-fs with a leaner put and get: the same files in the same places (so repos are
 * unchanged), but a shard directory is created once per process instead of a recursive mkdir
 * before every write, and a block is read with one readFile instead of a file stream: per-block
 * filesystem work was the largest cost of a pull (docs/DESIGN.md, "Measurements behind choices").
 * Writes stay atomic: a uniquely named temp file in the shard directory, then rename.
 */
export class MistBlockstore extends FsBlockstore {
  readonly kind = 'fs' as const
  private readonly madeDirs = new Set<string>()
  /** blockstore-fs's default layout (base32 multihash, directory = its last 2 characters), kept explicitly. */
  private readonly sharding: NextToLast

  constructor (location: string) {
    const sharding = new NextToLast()
    super(location, { shardingStrategy: sharding })
    this.sharding = sharding
  }

  override async open (): Promise<void> {
    await makePrivateDir(this.path)
    await super.open()
  }

  override async put (key: CID, val: Uint8Array, options?: AbortOptions): Promise<CID> {
    options?.signal?.throwIfAborted()
    const { dir, file } = this.sharding.encode(key)
    const dirPath = path.join(this.path, dir)
    const target = path.join(dirPath, file)
    // the temp name does not end in the block extension, so getAll never lists it
    const tmp = path.join(dirPath, `.${file}.${randomBytes(6).toString('hex')}.tmp`)
    // synchronous calls: a block is small and lands in the page cache; the promise API's file
    // handles cost more main-thread time than the writes themselves (DESIGN, "Measurements behind choices")
    try {
      if (!this.madeDirs.has(dirPath)) {
        mkdirSync(dirPath, { recursive: true, mode: PRIVATE_DIR_MODE })
        this.madeDirs.add(dirPath)
      }
      writeFileSync(tmp, val, { mode: PRIVATE_FILE_MODE }) // 0600 or less whatever the umask
      renameSync(tmp, target)
      return key
    } catch (err: any) {
      try { rmSync(tmp, { force: true }) } catch {}
      if (err?.code === 'ENOENT') this.madeDirs.delete(dirPath) // the directory went away under us
      throw new PutFailedError(String(err))
    }
  }

  /** Where the block of `key` lives: its shard directory and file (GC sweeps these). */
  locate (key: CID): { dir: string, file: string, path: string } {
    const { dir, file } = this.sharding.encode(key)
    return { dir: path.join(this.path, dir), file, path: path.join(this.path, dir, file) }
  }

  /**
   * Whether the block is held, and if so marks it as just used (its mtime set to now): one
   * filesystem call, as `has` costs. A GC beside a running node spares every block used after
   * it began, so a block a writer found already held and relies on is not swept under it
   * (docs/DESIGN.md, "Removal: unpin and gc").
   */
  async touch (key: CID): Promise<boolean> {
    // sub-millisecond wall clock (+1 ms): never earlier than the kernel's coarse timestamp of a file written before
    const now = (performance.timeOrigin + performance.now() + 1) / 1000
    try {
      await fs.utimes(this.locate(key).path, now, now)
      return true
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') return false
      // a read-only repo cannot be collected either: fall back to an existence check
      if (err?.code === 'EROFS' || err?.code === 'EPERM' || err?.code === 'EACCES') return this.has(key)
      throw err
    }
  }

  override async * get (key: CID, options?: AbortOptions): AsyncGenerator<Uint8Array> {
    options?.signal?.throwIfAborted()
    const { dir, file } = this.sharding.encode(key)
    let bytes: Buffer
    try {
      bytes = await fs.readFile(path.join(this.path, dir, file), { signal: options?.signal })
    } catch (err: any) {
      if (err?.code === 'ENOENT' || err?.code === 'ENOTDIR') throw new NotFoundError(String(err))
      throw err // an abort, or a disk that cannot be read: not "missing"
    }
    yield new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  }
}
