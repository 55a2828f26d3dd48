/**
 * The two rules that make gc safe beside writers (docs/DESIGN.md, "Removal: unpin and gc"), on a
 * real repo in this process: a block a writer finds already held is touched, so a gc that starts
 * while the writer's lease is live spares it; the same block is freed once the lease is gone; a
 * lease left by a dead process does not hold gc back.
 */
import { spawnSync } from 'node:child_process'
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { collectGarbage } from '../../src/gc/index.js'
import { listLeases, openLease, Repo } from '../../src/repo/index.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>
let repo: Repo

async function block (text: string): Promise<{ cid: CID, bytes: Uint8Array }> {
  const bytes = new TextEncoder().encode(text)
  return { cid: CID.createV1(raw.code, await sha256.digest(bytes)), bytes }
}

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir('mist-gcmark-'))
  repo = await Repo.open({ path: join(dir, 'repo'), create: true })
})

afterEach(async () => {
  await repo?.close()
  await cleanup?.()
})

describe('gc marking beside writers', () => {
  it('a held block a leased writer stores again is touched and spared; freed once the lease is released', async () => {
    const relied = await block('relied on by a pin in progress')
    const unused = await block('nobody needs this one')
    await repo.putBlocks([relied, unused])
    await sleep(30) // the blocks are older than the lease below
    const lease = await openLease(repo.path, 'test writer')
    expect(await repo.putBlock(relied.cid, relied.bytes)).toBe(false) // already held: touched, not written
    const first = await collectGarbage(repo)
    expect(first).toMatchObject({ freedBlocks: 1, recentBlocks: 1, pendingWriters: 1 })
    expect(await repo.has(relied.cid)).toBe(true)
    expect(await repo.has(unused.cid)).toBe(false)
    await lease.release()
    await sleep(30)
    const second = await collectGarbage(repo)
    expect(second).toMatchObject({ freedBlocks: 1, pendingWriters: 0 })
    expect(await repo.has(relied.cid)).toBe(false)
  })

  it('a lease whose process is gone is removed and holds nothing back', async () => {
    const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
    const deadPid = Number(child.stdout.toString())
    const b = await block('garbage')
    await repo.putBlocks([b])
    await mkdir(join(repo.path, 'pending'), { recursive: true })
    await writeFile(join(repo.path, 'pending', `${deadPid}-dead.lease`), JSON.stringify({ pid: deadPid, command: 'publish', since: '2026-01-01T00:00:00Z' }))
    await sleep(30)
    expect((await collectGarbage(repo)).freedBlocks).toBe(1)
    expect(await readdir(join(repo.path, 'pending'))).toEqual([])
    expect(await listLeases(repo.path)).toEqual([])
  })
})
