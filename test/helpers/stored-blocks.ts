/**
 * What a repo's blockstore holds, and damage done to it on purpose, through the store itself so
 * tests hold for both kinds (LMDB and a file per block). Each call opens the repo (its lock):
 * use it while no mist-p2p process has the repo open.
 */
import { existsSync } from 'node:fs'
import { readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { Repo } from '../../src/repo/index.js'
import { LMDB_FILE, LmdbBlockstore } from '../../src/repo/lmdb-blockstore.js'

const hex = (mh: Uint8Array): string => Buffer.from(mh).toString('hex')

async function withStore<T> (repoPath: string, fn: (repo: Repo) => Promise<T>): Promise<T> {
  const repo = await Repo.open({ path: repoPath })
  try {
    return await fn(repo)
  } finally {
    await repo.close()
  }
}

/** Every block held, by multihash (hex), with its size. */
export async function storedBlocks (repoPath: string): Promise<Map<string, number>> {
  return withStore(repoPath, async repo => {
    const out = new Map<string, number>()
    for await (const { cid, bytes } of repo.blockstore.getAll()) {
      let n = 0
      for await (const c of bytes) n += c.byteLength
      out.set(hex(cid.multihash.bytes), n)
    }
    return out
  })
}

/** Replaces the stored bytes of a block (no hash check): a corrupt disk. */
export async function overwriteBlock (repoPath: string, cid: CID, bytes: Uint8Array): Promise<void> {
  await withStore(repoPath, async repo => {
    const store = repo.blockstore
    if (store.kind === 'lmdb') await store.overwrite(cid, bytes)
    else await writeFile(store.locate(cid).path, bytes)
  })
}

/** Removes a block from the store. */
export async function removeBlock (repoPath: string, cid: CID): Promise<void> {
  await withStore(repoPath, async repo => {
    const store = repo.blockstore
    if (store.kind === 'lmdb') await store.delete(cid)
    else await rm(store.locate(cid).path)
  })
}

/** The blockstore kind a repo records. */
export async function storeKind (repoPath: string): Promise<'fs' | 'lmdb'> {
  return withStore(repoPath, async repo => repo.blockstore.kind)
}

/**
 * How many blocks the repo holds, read without its lock, so while another process writes it: the
 * block files of an fs repo, or the LMDB database opened read-only (LMDB's readers and its one
 * writer run side by side).
 */
export async function countStoredBlocks (repoPath: string): Promise<number> {
  const blocks = join(repoPath, 'blocks')
  if (existsSync(join(blocks, LMDB_FILE))) {
    return await LmdbBlockstore.countReadOnly(blocks)
  }
  let n = 0
  for (const d of await readdir(blocks).catch(() => [] as string[])) n += (await readdir(join(blocks, d)).catch(() => [] as string[])).filter(f => f.endsWith('.data')).length
  return n
}
