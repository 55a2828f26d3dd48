/**
 * Names (issue 17, item 2) with real `serve` processes on 127.0.0.1: a node names a dataset with a
 * signed IPNS record, members resolve `<peer-id>/<name>` (and an alias) over /mist/names/1.0.0 and
 * get by name; a new version wins by its sequence number; a record replayed by a node that kept the
 * old one, a record signed by another key and an expired record are refused with clear messages.
 */
import { readdir, readFile, stat, writeFile, mkdir } from 'node:fs/promises'
import { base32upper } from 'multiformats/bases/base32'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { CID } from 'multiformats/cid'
import { putNameRecord, signNameRecord } from '../../src/names/index.js'
import { encodeManifest } from '../../src/names/manifest.js'
import { loadOrCreateIdentity } from '../../src/node/identity.js'
import { Repo } from '../../src/repo/index.js'
import { walkLevel } from '../../src/level/index.js'
import { cli } from '../helpers/cli.js'
import { initRepo, startServe } from '../helpers/repos.js'
import type { ServeProc } from '../helpers/serve.js'
import { storedBlocks } from '../helpers/stored-blocks.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>
const serves: ServeProc[] = []
let a: { repo: string, peerId: string }
let aAddr: string
let v1: string
let v2: string

async function ok (args: string[]): Promise<any> {
  const res = await cli([...args, '--json'])
  expect(res.code, `${args.join(' ')}: ${res.stderr}`).toBe(0)
  return JSON.parse(res.stdout)
}

/** The blocks a repo holds, by multihash (hex). */
async function blockKeys (repo: string): Promise<Set<string>> {
  return new Set((await storedBlocks(repo)).keys())
}

async function images (into: string, seeds: number[]): Promise<void> {
  await mkdir(into, { recursive: true })
  for (const s of seeds) await writeFile(join(into, `img${s}.png`), encodePng(synthesizeImage(128, 128, 12, false, 1, s)))
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-names-'))
  a = await initRepo(dir, 'a')
  await images(join(dir, 'v1'), [1, 2])
  await images(join(dir, 'v2'), [1, 2, 3])
  v1 = (await ok(['publish', join(dir, 'v1'), '--repo', a.repo])).root
  v2 = (await ok(['publish', join(dir, 'v2'), '--repo', a.repo])).root
  const r = await ok(['name', 'publish', v1, 'chest', '--repo', a.repo, '--description', 'chest X-rays, site A'])
  expect(r).toMatchObject({ peer: a.peerId, name: 'chest', root: v1, seq: '1' })
  aAddr = await (await startServe(serves, a.repo)).addr()
}, 120_000)

afterAll(async () => {
  await Promise.all(serves.map(async s => s.stop().catch(() => {})))
  await cleanup?.()
})

describe('names', () => {
  it('members resolve and get by name and alias; a new version wins by sequence; a replayed older record is refused', async () => {
    const b = await initRepo(dir, 'b', a.repo)
    const first = await ok(['name', 'resolve', `${a.peerId}/chest`, '--peer', aAddr, '--repo', b.repo])
    expect(first).toMatchObject({ root: v1, seq: '1', from: a.peerId, description: 'chest X-rays, site A' })

    // a caching member C resolves v1 through its own serve, then keeps it
    const c = await initRepo(dir, 'c', a.repo)
    const cAddr = await (await startServe(serves, c.repo, { extra: ['--peer', aAddr, '--http', '127.0.0.1:0'] })).addr()
    expect(await ok(['name', 'resolve', `${a.peerId}/chest`, '--repo', c.repo])).toMatchObject({ root: v1, seq: '1' })
    // the viewer link of a name: the root it resolves to, on C's gateway
    const opened = await ok(['open', `${a.peerId}/chest`, '--repo', c.repo])
    expect(opened.url).toMatch(new RegExp(`^http://127\\.0\\.0\\.1:\\d+/\\?root=${v1}$`))

    // A publishes v2 through its running serve
    expect(await ok(['name', 'publish', v2, 'chest', '--repo', a.repo, '--description', 'chest X-rays, site A, v2'])).toMatchObject({ root: v2, seq: '2' })
    // B by alias: info and get follow the newest record
    const config = JSON.parse(await readFile(join(b.repo, 'config.json'), 'utf8'))
    await writeFile(join(b.repo, 'config.json'), JSON.stringify({ ...config, aliases: { 'site-a': a.peerId } }))
    const info = await ok(['info', 'site-a/chest', '--peer', aAddr, '--repo', b.repo])
    expect(info).toMatchObject({ root: v2, kind: 'dataset', entries: 3 })
    const got = await ok(['get', `${a.peerId}/chest/img3.png`, '--level', '0', '-o', join(dir, 'out.png'), '--peer', aAddr, '--repo', b.repo])
    expect(got.outputs).toHaveLength(1)

    // C still serves sequence 1: B, which has seen 2, refuses it and keeps 2
    const replay = await cli(['name', 'resolve', `${a.peerId}/chest`, '--peer', cAddr, '--repo', b.repo, '--json'])
    expect(replay.code, replay.stderr).toBe(0)
    expect(JSON.parse(replay.stdout)).toMatchObject({ root: v2, seq: '2', from: 'this repo' })
    expect(replay.stderr).toMatch(/refused, its sequence 1 is older than sequence 2 already seen \(a replayed record\)/)
  }, 180_000)

  it('a record signed by another key, and an expired one, are refused', async () => {
    const d = await initRepo(dir, 'd', a.repo)
    const repo = await Repo.open({ path: d.repo })
    try {
      const manifest = await encodeManifest({ name: 'chest', root: CID.parse(v1), description: 'forged' })
      const record = await signNameRecord(await loadOrCreateIdentity(d.repo), manifest.cid, 99n, 3600_000)
      await putNameRecord(repo.datastore, { peer: a.peerId, name: 'chest', root: CID.parse(v1), seq: 99n, validity: '', record, manifest: manifest.bytes })
    } finally {
      await repo.close()
    }
    const dAddr = await (await startServe(serves, d.repo)).addr()
    const e = await initRepo(dir, 'e', a.repo)
    const res = await cli(['name', 'resolve', `${a.peerId}/chest`, '--peer', dAddr, '--repo', e.repo])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`NameError: cannot resolve ${a.peerId}/chest: ${a.peerId}/chest from ${d.peerId}: refused, the record is not signed by ${a.peerId}`)

    await ok(['name', 'publish', v1, 'brief', '--lifetime', '1s', '--repo', a.repo])
    await sleep(1200)
    const expired = await cli(['name', 'resolve', `${a.peerId}/brief`, '--peer', aAddr, '--repo', e.repo])
    expect(expired.code).toBe(1)
    expect(expired.stderr).toMatch(/brief from .*: refused, the record has expired/)
  }, 180_000)

  it('a serving publisher signs its own records again before they expire; members resolve it past the first lifetime', async () => {
    const p = await initRepo(dir, 'refresher', a.repo)
    const root = (await ok(['publish', join(dir, 'v1'), '--repo', p.repo])).root
    await ok(['name', 'publish', root, 'live', '--lifetime', '3s', '--repo', p.repo])
    const config = JSON.parse(await readFile(join(p.repo, 'config.json'), 'utf8'))
    await writeFile(join(p.repo, 'config.json'), JSON.stringify({ ...config, nameRefreshSeconds: 1 }))
    const pAddr = await (await startServe(serves, p.repo)).addr()
    await sleep(4500) // past the first record's validity
    const q = await initRepo(dir, 'asker', a.repo)
    const got = await ok(['name', 'resolve', `${p.peerId}/live`, '--peer', pAddr, '--repo', q.repo])
    expect(got).toMatchObject({ root })
    expect(BigInt(got.seq)).toBeGreaterThan(1n)
    expect(Date.parse(got.validity)).toBeGreaterThan(Date.now())
  }, 120_000)

  it('a follower mirrors the named dataset at level 1, fetches only the new blocks of v2, and after gc holds exactly v2\'s level 1', async () => {
    await ok(['name', 'publish', v1, 'followed', '--repo', a.repo])
    const g = await initRepo(dir, 'g', a.repo)
    const follow = ['mirror', '--follow', `${a.peerId}/followed`, '--level', '1', '--once', '--peer', aAddr, '--repo', g.repo]
    expect(await ok(follow)).toMatchObject({ root: v1, seq: '1', changed: true, dropped: [] })
    expect(await ok(follow)).toMatchObject({ root: v1, changed: false, fetchedBlocks: 0 })

    await ok(['name', 'publish', v2, 'followed', '--repo', a.repo])
    const diff = await ok(['diff', v1, v2, '--repo', a.repo])
    const before = await blockKeys(g.repo)
    const round = await ok(follow)
    expect(round).toMatchObject({ root: v2, seq: '2', changed: true, dropped: [v1] })
    // the block files that appeared are exactly what diff said a level-1 mirror fetches
    const held = await storedBlocks(g.repo)
    const fetched = [...held.keys()].filter(k => !before.has(k))
    expect(fetched.length).toBe(diff.levels[1].blocks)
    let bytes = 0
    for (const k of fetched) bytes += held.get(k)!
    expect(bytes).toBe(diff.levels[1].bytes)

    const gc = await ok(['gc', '--repo', g.repo])
    expect(gc.freedBlocks).toBeGreaterThan(0) // img1/img2 level-file and root blocks only v1 had
    const level1 = new Set<string>()
    const repo = await Repo.open({ path: g.repo })
    try {
      await walkLevel(repo, CID.parse(v2), b => { level1.add(Buffer.from(b.cid.multihash.bytes).toString('hex')) }, { level: 1, levelFiles: true })
    } finally {
      await repo.close()
    }
    expect([...(await blockKeys(g.repo))].sort()).toEqual([...level1].sort())
    expect((await ok(['verify', v2, '--level', '1', '--repo', g.repo])).ok).toBe(true)

    // ls names the root by the name it follows (and the record it holds); unpin by name drops it, gc frees all
    expect(await ok(['ls', '--repo', g.repo])).toEqual([expect.objectContaining({ root: v2, names: [`${a.peerId}/followed`] })])
    expect(await ok(['unpin', `${a.peerId}/followed`, '--repo', g.repo])).toMatchObject({ root: v2, mirror: true })
    expect(await ok(['ls', '--repo', g.repo])).toEqual([])
    await ok(['gc', '--repo', g.repo])
    expect((await blockKeys(g.repo)).size).toBe(0)
  }, 180_000)

  it('serve resumes the follows of its repo config: a new node mirrors the current version by itself', async () => {
    const h = await initRepo(dir, 'h', a.repo)
    const config = JSON.parse(await readFile(join(h.repo, 'config.json'), 'utf8'))
    await writeFile(join(h.repo, 'config.json'), JSON.stringify({ ...config, peers: [aAddr], follow: [{ name: `${a.peerId}/followed`, level: 0, intervalSeconds: 1 }] }))
    const hAddr = await (await startServe(serves, h.repo)).addr()
    let held: any[] = []
    for (let i = 0; i < 60 && !held.some(x => x.root === v2); i++) {
      await sleep(500)
      held = await ok(['ls', '--repo', h.repo])
    }
    expect(held).toEqual([expect.objectContaining({ root: v2, pinned: false, levels: 0, mirror: expect.objectContaining({ follow: `${a.peerId}/followed` }) })])
    expect((await ok(['verify', v2, '--level', '0', '--repo', h.repo])).ok).toBe(true)

    // the catalog a new member sees: what A and H offer, who holds which levels; A's expired record is not offered
    const k = await initRepo(dir, 'k', a.repo)
    const cat = await ok(['catalog', '--peer', aAddr, '--peer', hAddr, '--repo', k.repo])
    const byName = new Map(cat.entries.map((e: any) => [e.name, e]))
    expect(byName.get(`${a.peerId}/followed`)).toMatchObject({ root: v2, seq: '2', kind: 'dataset', entries: 3, levels: [expect.objectContaining({ level: 0 }), expect.objectContaining({ level: 1 })] })
    expect((byName.get(`${a.peerId}/followed`) as any).holders.sort((x: any, y: any) => x.peer.localeCompare(y.peer))).toEqual([{ peer: a.peerId, levels: 'full' }, { peer: h.peerId, levels: 0 }].sort((x, y) => x.peer.localeCompare(y.peer)))
    expect(byName.get(`${a.peerId}/chest`)).toMatchObject({ root: v2, seq: '2', description: 'chest X-rays, site A, v2' })
    expect(byName.has(`${a.peerId}/brief`)).toBe(false)

    // a getter whose only peer is H (a level-0 mirror) asking for level 1 is told at once, not after --timeout 60
    const started = Date.now()
    const finer = await cli(['get', v2, '--level', '1', '--timeout', '60', '-o', join(dir, 'finer'), '--peer', hAddr, '--repo', k.repo])
    expect(finer.code).toBe(1)
    expect(finer.stderr).toContain(`the connected peers hold it only up to level 0 (${h.peerId}: 0..0); level 1 cannot come from them`)
    expect(Date.now() - started).toBeLessThan(45_000)
  }, 180_000)
})
