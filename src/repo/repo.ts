import { readdir, writeFile, access } from 'node:fs/promises'
import { join, resolve } from 'node:path'
import { MistBlockstore } from './blockstore.js'
import { BLOCKSTORE_KINDS, type BlockstoreKind } from './config.js'
import { LmdbBlockstore } from './lmdb-blockstore.js'
import { PrivateDatastore } from './datastore.js'
import { makePrivateDir, PRIVATE_FILE_MODE, repoPermissionWarnings } from './private-fs.js'
import type { CID } from 'multiformats/cid'
import { MissingBlockError, RepoError } from '../errors.js'
import type { Block, AbortOptions } from '../types.js'
import type { BlockStore } from './block-source.js'
import { RepoLock } from './lock.js'
import { defaultRepoPath } from './paths.js'
import { readRepoConfig } from './config.js'
import { verifyBlock } from './verify.js'
import { cidKey } from '../util/cid-key.js'
import { listMirrors, recordMirror, removeMirror, type MirrorRecord, type MirrorSelection } from './mirrors.js'
import { addPin, isPinned, listPins, removePin, type PinRecord } from './pins.js'

export interface RepoOpenOptions {
  /** Repo directory; default `$MIST_P2P_REPO` or `~/.mist-p2p`. */
  path?: string
  /** Create the repo if it does not exist (publish does; get/info on a missing repo fail clearly). */
  create?: boolean
  /** The command taking the lock, shown to anyone else who finds the repo busy. */
  command?: string
  /**
   * The blockstore of a repo this call creates: default \`$MIST_P2P_BLOCKSTORE\`, else "lmdb".
   * An existing repo keeps the one its config.json records ("fs" if it records none).
   */
  blockstore?: BlockstoreKind
  /** Where warnings go (an existing repo other users can read or write); default: stderr. */
  onWarning?: (message: string) => void
}

function defaultWarning (message: string): void {
  process.stderr.write(`warning: ${message}\n`)
}

export const REPO_VERSION = 1

/** The repo's blockstore: a file per block (repos made before LMDB) or one LMDB database. */
export type RepoBlockstore = MistBlockstore | LmdbBlockstore

function newRepoBlockstore (path: string, wanted: BlockstoreKind | undefined): BlockstoreKind {
  const kind = wanted ?? (process.env.MIST_P2P_BLOCKSTORE === '' ? undefined : process.env.MIST_P2P_BLOCKSTORE) ?? 'lmdb'
  if (!BLOCKSTORE_KINDS.includes(kind as BlockstoreKind)) {
    throw new RepoError(`${path}: cannot create a repo with blockstore "${kind}" (MIST_P2P_BLOCKSTORE or the blockstore option): use ${BLOCKSTORE_KINDS.map(k => `"${k}"`).join(' or ')}`)
  }
  return kind as BlockstoreKind
}

/**
 * A persistent mist-p2p repo on disk: `blocks/` (an IPFS blockstore: one LMDB database, or
 * blockstore-fs's file per block in repos made before it),
 * `datastore/` (pins and node state, datastore-fs), `config.json`, and `repo.lock`
 * held while a command uses it.
 */
export class Repo implements BlockStore {
  /** Block writes in progress, by CID (putBlock). */
  private readonly putting = new Map<string, Promise<boolean>>()

  private constructor (
    readonly path: string,
    readonly blockstore: RepoBlockstore,
    readonly datastore: PrivateDatastore,
    private readonly lock: RepoLock
  ) {}

  static async open (options: RepoOpenOptions = {}): Promise<Repo> {
    const path = resolve(options.path ?? defaultRepoPath())
    const configFile = join(path, 'config.json')
    const exists = await access(configFile).then(() => true, () => false)
    let kind: BlockstoreKind | undefined
    if (!exists) {
      if (options.create !== true) {
        throw new RepoError(`${path} is not a mist-p2p repo (no config.json). Publish something into it first, or pass --repo DIR.`)
      }
      kind = newRepoBlockstore(path, options.blockstore)
      try {
        // a new or empty directory becomes the private repo; a directory that already holds other
        // things (--repo .) keeps its mode, and its files are private (a warning says if it is not)
        if ((await readdir(path).catch(() => [])).length === 0) await makePrivateDir(path)
      } catch (err: any) {
        throw new RepoError(`${path}: cannot create the repo directory: ${err?.message ?? err}`, { cause: err })
      }
    }
    const lock = await RepoLock.acquire(path, options.command ?? 'library')
    try {
      if (!exists) await writeFile(configFile, JSON.stringify({ version: REPO_VERSION, blockstore: kind }, null, 2) + '\n', { mode: PRIVATE_FILE_MODE })
      for (const warning of await repoPermissionWarnings(path)) (options.onWarning ?? defaultWarning)(warning)
      const config = await readRepoConfig(path)
      if (config.version !== REPO_VERSION) {
        throw new RepoError(`${path}: repo version ${config.version} is not supported by this mist-p2p (expects ${REPO_VERSION})`)
      }
      // a repo that records no blockstore was made before LMDB: its blocks are files
      const blockstore = (config.blockstore ?? 'fs') === 'lmdb' ? new LmdbBlockstore(join(path, 'blocks')) : new MistBlockstore(join(path, 'blocks'))
      const datastore = new PrivateDatastore(join(path, 'datastore'))
      await blockstore.open()
      await datastore.open()
      return new Repo(path, blockstore, datastore, lock)
    } catch (err) {
      await lock.release()
      if (err instanceof RepoError) throw err
      throw new RepoError(`${path}: cannot open the repo: ${(err as Error)?.message ?? err}`, { cause: err })
    }
  }

  async has (cid: CID, options: AbortOptions = {}): Promise<boolean> {
    return this.blockstore.has(cid, options)
  }

  /** Reads and verifies one block; MissingBlockError when the repo does not hold it. */
  async get (cid: CID, options: AbortOptions = {}): Promise<Uint8Array> {
    // one read, no existence check first (each check is a filesystem call on the hot path)
    const chunks: Uint8Array[] = []
    try {
      for await (const chunk of this.blockstore.get(cid, options)) chunks.push(chunk)
    } catch (err: any) {
      if (err?.name === 'NotFoundError') throw new MissingBlockError(`block ${cid} is not in the repo ${this.path}`)
      throw err
    }
    const bytes = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
    verifyBlock(cid, bytes, `${this.path}: `)
    return bytes
  }

  /**
   * Stores blocks not yet held. Returns the number of bytes newly written. The puts are issued
   * together, so an LMDB repo commits an image's blocks in one transaction instead of one each.
   */
  async putBlocks (blocks: Iterable<Block>, options: AbortOptions = {}): Promise<number> {
    options.signal?.throwIfAborted()
    const list = [...blocks]
    const wrote = await Promise.all(list.map(async block => this.putBlock(block.cid, block.bytes, options)))
    let written = 0
    for (const [i, block] of list.entries()) if (wrote[i]) written += block.bytes.byteLength
    return written
  }

  /**
   * Stores one block unless it is held (`notHeld`: the caller knows it is not, skip the check).
   * Concurrent callers storing the same block (the EOC leaf every image shares, identical images,
   * a block two getters of a daemon fetched at once) wait for the one write in progress: the
   * block is written and counted once. Returns whether this call wrote it.
   */
  async putBlock (cid: CID, bytes: Uint8Array, options: AbortOptions & { notHeld?: boolean } = {}): Promise<boolean> {
    const key = cidKey(cid)
    const inFlight = this.putting.get(key)
    if (inFlight != null) { await inFlight; return false }
    const put = (async () => {
      // a held block is touched, not rewritten: a gc beside us then spares it (blockstore.ts touch)
      if (options.notHeld !== true && await this.blockstore.touch(cid)) return false
      await this.blockstore.put(cid, bytes, { signal: options.signal })
      return true
    })()
    this.putting.set(key, put)
    try {
      return await put
    } finally {
      this.putting.delete(key)
    }
  }

  /**
   * Pins a root so it is kept. Callers pin only once every block under the root is stored
   * (publish, import, a full mirror); see pins.ts for why this is a record, not a Helia pin walk.
   */
  async pin (cid: CID, _options: AbortOptions = {}): Promise<void> {
    await addPin(this.datastore, cid)
  }

  async isPinned (cid: CID): Promise<boolean> {
    return isPinned(this.datastore, cid)
  }

  /** The pinned roots. */
  pins (): AsyncGenerator<PinRecord> {
    return listPins(this.datastore)
  }

  async recordMirror (cid: CID, selection: MirrorSelection): Promise<void> {
    await recordMirror(this.datastore, cid, selection)
  }

  /** The mirror records (full and partial). */
  mirrors (): AsyncGenerator<MirrorRecord> {
    return listMirrors(this.datastore)
  }

  /** Whether the block is held; if so it is marked as just used, so a gc running beside us spares it. */
  async touch (cid: CID): Promise<boolean> {
    return this.blockstore.touch(cid)
  }

  /** Removes the pin and the mirror record of `cid` (its blocks stay until `gc`); what was removed. */
  async unpin (cid: CID): Promise<{ pin: boolean, mirror: boolean }> {
    const pin = await removePin(this.datastore, cid)
    const mirror = await removeMirror(this.datastore, cid)
    return { pin, mirror }
  }

  async close (): Promise<void> {
    try {
      await this.blockstore.close()
      await this.datastore.close()
    } finally {
      await this.lock.release()
    }
  }
}
