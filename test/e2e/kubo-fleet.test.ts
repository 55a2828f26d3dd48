/**
 * Kubo as a mirror of a mist-p2p archive (MIST_KUBO), on 127.0.0.1 only: a level-1 CAR from
 * `mist-p2p export` imports into Kubo with default options (its declared roots are complete
 * inside it); `mist-p2p pin-plan --level 1` pinned on that Kubo holds exactly levels 0..1, a getter
 * pulls level 1 from it and cannot get level 2; a full CAR imported into Kubo is served by Kubo
 * alone to `mist-p2p get --peer <kubo>` with outputs identical to a local get; `ipfs dag export`
 * of the root is a CAR `mist-p2p import` takes as a complete, pinned root.
 */
import { randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { CarBlockIterator } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { writeExamples } from '../../src/examples/index.js'
import { encodePng } from '../../src/formats/index.js'
import { cli } from '../helpers/cli.js'
import { ClusterPeer, clusterBins } from '../helpers/cluster.js'
import { KuboNode, kuboBin } from '../helpers/kubo.js'
import { initRepo, startServe } from '../helpers/repos.js'
import type { ServeProc } from '../helpers/serve.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: (() => Promise<void>) | undefined
const serves: ServeProc[] = []
const kubos: KuboNode[] = []
let kubo: KuboNode
let seeder: { repo: string, peerId: string }
let root: string
let skip = false
/** Blocks a fresh Kubo holds by itself (its MFS root, the empty directory). */
let baseline = new Set<string>()
let baselineRepoSize = 0

/** Blocks of a CAR file by multihash (base16), with their bytes, and its declared roots. */
async function readCar (path: string): Promise<{ roots: CID[], blocks: Map<string, { cid: CID, bytes: Uint8Array }> }> {
  const it = await CarBlockIterator.fromIterable(createReadStream(path))
  const blocks = new Map<string, { cid: CID, bytes: Uint8Array }>()
  for await (const b of it) blocks.set(mh(b.cid as CID), { cid: b.cid as CID, bytes: b.bytes })
  return { roots: (await it.getRoots()) as CID[], blocks }
}

const mh = (cid: CID): string => Buffer.from(cid.multihash.bytes).toString('hex')

/** Every file under a directory, relative path -> bytes. */
async function tree (top: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else out.set(relative(top, p), await readFile(p))
    }
  }
  await walk(top)
  return out
}

async function expectSameTree (a: string, b: string): Promise<void> {
  const ta = await tree(a)
  const tb = await tree(b)
  expect([...tb.keys()].sort()).toEqual([...ta.keys()].sort())
  expect(ta.size).toBeGreaterThan(0)
  for (const [name, bytes] of ta) expect(Buffer.compare(bytes, tb.get(name)!), name).toBe(0)
}

beforeAll(async () => {
  const bin = kuboBin()
  if (bin == null) { skip = true; return }
  ({ dir, cleanup } = await tempDir('mist-kubo-fleet-'))
  seeder = await initRepo(dir, 'seeder')
  // the built-in examples: a 48-slice volume and a 12-bit radiograph (volume, shard-free slices, images)
  await writeExamples(join(dir, 'examples'))
  const pub = await cli(['publish', join(dir, 'examples'), '--repo', seeder.repo, '--json'], { timeoutMs: 300_000 })
  expect(pub.code, pub.stderr).toBe(0)
  root = JSON.parse(pub.stdout).root
  kubo = await KuboNode.init(bin, join(dir, 'kubo'), join(seeder.repo, 'swarm.key'))
  kubos.push(kubo)
  await kubo.start()
  baseline = await localBlocks(kubo)
  baselineRepoSize = JSON.parse(await kubo.ok(['repo', 'stat', '--enc=json'])).RepoSize
}, 300_000)

async function localBlocks (k: KuboNode): Promise<Set<string>> {
  return new Set((await k.ok(['refs', 'local'])).trim().split('\n').filter(c => c !== '').map(c => mh(CID.parse(c))))
}

afterAll(async () => {
  await Promise.all(kubos.map(async k => k.kill().catch(() => {})))
  await Promise.all(serves.map(async s => s.kill().catch(() => {})))
  await cleanup?.()
})

describe('Kubo as a partial mirror: level-k CARs and pin plans', () => {
  it('a level-1 CAR declares roots complete inside it, and `ipfs dag import` with default options pins them', async (ctx) => {
    if (skip) ctx.skip()
    const car = join(dir, 'level1.car')
    const exp = await cli(['export', root, '--level', '1', '-o', car, '--repo', seeder.repo, '--json'])
    expect(exp.code, exp.stderr).toBe(0)
    expect(JSON.parse(exp.stdout).layout).toBe('level-dirs') // a version-2 dataset: its level directories 0..1
    const { roots, blocks } = await readCar(car)
    // every declared root is a UnixFS directory whose every block is in the CAR
    expect(roots.length).toBeGreaterThan(1)
    for (const r of roots) {
      expect(r.code).toBe(dagPb.code)
      const walk = (c: CID): void => {
        const held = blocks.get(mh(c))
        expect(held, `${c} under root ${r}`).toBeDefined()
        if (c.code === dagPb.code) for (const l of dagPb.decode(held!.bytes).Links) walk(l.Hash)
      }
      walk(r)
    }
    // the mist root is the first block, so `mist-p2p import` still finds it
    const imp = await cli(['import', car, '--repo', (await initRepo(dir, 'car-target', seeder.repo)).repo, '--json'])
    expect(imp.code, imp.stderr).toBe(0)
    expect(JSON.parse(imp.stdout).roots).toEqual([{ root, level: 1 }])
    // Kubo's default import (pin the roots) ends without the network: Kubo is connected to no one
    expect(JSON.parse(await kubo.ok(['swarm', 'peers', '--enc=json'])).Peers ?? []).toEqual([])
    const res = await kubo.ipfs(['dag', 'import', '--stats', car], { timeoutMs: 60_000 })
    expect(res.code, res.stderr).toBe(0)
    const pinned = res.stdout.toString().split('\n').filter(l => l.startsWith('Pinned root'))
    expect(pinned).toHaveLength(roots.length)
    for (const line of pinned) expect(line).toMatch(/\tsuccess$/)
    const pins = new Set((await kubo.ok(['pin', 'ls', '--type=recursive', '--quiet'])).trim().split('\n'))
    for (const r of roots) expect(pins.has(r.toString())).toBe(true)
  }, 180_000)

  it('pin-plan --level 1 on that Kubo holds exactly levels 0..1; a getter pulls level 1 from Kubo alone and cannot get level 2', async (ctx) => {
    if (skip) ctx.skip()
    const plan = await cli(['pin-plan', root, '--level', '1', '--repo', seeder.repo, '--json'])
    expect(plan.code, plan.stderr).toBe(0)
    const doc = JSON.parse(plan.stdout)
    expect(doc.direct[0]).toBe(root)
    // the forms `ipfs pin add` reads from stdin
    const recursive = await cli(['pin-plan', root, '--level', '1', '--only', 'recursive', '--repo', seeder.repo])
    const direct = await cli(['pin-plan', root, '--level', '1', '--only', 'direct', '--repo', seeder.repo])
    expect(recursive.stdout.trim().split('\n')).toEqual(doc.recursive)
    expect(direct.stdout.trim().split('\n')).toEqual(doc.direct)
    const marked = await cli(['pin-plan', root, '--level', '1', '--repo', seeder.repo])
    expect(marked.stdout.trim().split('\n')).toEqual([...doc.recursive.map((c: string) => `recursive ${c}`), ...doc.direct.map((c: string) => `direct ${c}`)])
    await kubo.ok(['pin', 'add', '--timeout=60s'], { input: recursive.stdout })
    await kubo.ok(['pin', 'add', '--recursive=false', '--timeout=60s'], { input: direct.stdout })
    // drop the CAR's own pins: the plan alone must hold everything levels 0..1 need
    const carPins = (await kubo.ok(['pin', 'ls', '--type=recursive', '--quiet'])).trim().split('\n').filter(c => !doc.recursive.includes(c))
    if (carPins.length > 0) await kubo.ok(['pin', 'rm', ...carPins])
    await kubo.ok(['repo', 'gc', '--quiet'])
    const { blocks } = await readCar(join(dir, 'level1.car'))
    const local = [...await localBlocks(kubo)].filter(c => !baseline.has(c))
    expect(local.sort()).toEqual([...blocks.keys()].sort())
    const carBytes = [...blocks.values()].reduce((n, b) => n + b.bytes.byteLength, 0)
    const repoStat = JSON.parse(await kubo.ok(['repo', 'stat', '--enc=json']))
    const full = JSON.parse((await cli(['info', root, '--repo', seeder.repo, '--json'])).stdout)
    const fullBytes = full.levels[full.levels.length - 1].bytes
    const grown = repoStat.RepoSize - baselineRepoSize
    console.log(`[kubo] pin plan level 1: ${doc.recursive.length} recursive + ${doc.direct.length} direct pins; Kubo holds ${repoStat.NumObjects - baseline.size} blocks, its repo grew by ${grown} B (the blocks: ${carBytes} B; the full dataset: ${fullBytes} B)`)
    expect(repoStat.NumObjects).toBe(blocks.size + baseline.size)
    // about the level-1 bytes: the blocks plus Kubo's pin and datastore records (about 1 MB here, a
    // fixed cost rather than a share of the data); the exact block set above is the precise check
    expect(grown).toBeGreaterThanOrEqual(carBytes)
    expect(grown).toBeLessThan(carBytes + 4 * 1024 * 1024)
    expect(doc.leafBytes + doc.directBytes).toBeLessThanOrEqual(carBytes)
    expect(doc.leafBytes + doc.directBytes).toBeGreaterThan(0.95 * carBytes)

    const getter = await initRepo(dir, 'getter-l1', seeder.repo)
    const fromKubo = join(dir, 'l1-kubo')
    const res = await cli(['get', root, '--level', '1', '-o', fromKubo, '--repo', getter.repo, '--peer', kubo.multiaddr, '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(Object.keys(JSON.parse(res.stdout).fetched.peers)).toEqual([kubo.peerId])
    const localOut = join(dir, 'l1-local')
    expect((await cli(['get', root, '--level', '1', '-o', localOut, '--repo', seeder.repo])).code).toBe(0)
    await expectSameTree(localOut, fromKubo)
    const more = await cli(['get', root, '--level', '2', '-o', join(dir, 'l2-kubo'), '--repo', getter.repo, '--peer', kubo.multiaddr, '--timeout', '3'])
    expect(more.code).toBe(1)
    expect(more.stderr).toMatch(/MissingBlockError: .*level 2/)
  }, 180_000)

  it('a full CAR imported into Kubo is served by Kubo alone: get --peer <kubo> writes what a local get writes', async (ctx) => {
    if (skip) ctx.skip()
    const car = join(dir, 'full.car')
    const exp = await cli(['export', root, '-o', car, '--repo', seeder.repo, '--json'])
    expect(exp.code, exp.stderr).toBe(0)
    expect(JSON.parse(exp.stdout)).toMatchObject({ layout: 'root', roots: [root] })
    const res = await kubo.ipfs(['dag', 'import', car], { timeoutMs: 60_000 })
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout.toString()).toContain(`Pinned root\t${root}\tsuccess`)
    const getter = await initRepo(dir, 'getter-full', seeder.repo)
    const fromKubo = join(dir, 'full-kubo')
    const got = await cli(['get', root, '-o', fromKubo, '--repo', getter.repo, '--peer', kubo.multiaddr, '--json'])
    expect(got.code, got.stderr).toBe(0)
    expect(Object.keys(JSON.parse(got.stdout).fetched.peers)).toEqual([kubo.peerId])
    const localOut = join(dir, 'full-local')
    expect((await cli(['get', root, '-o', localOut, '--repo', seeder.repo])).code).toBe(0)
    await expectSameTree(localOut, fromKubo)
  }, 180_000)

  it('ipfs dag export of the root is a CAR mist-p2p import takes as complete and pinned', async (ctx) => {
    if (skip) ctx.skip()
    const car = join(dir, 'from-kubo.car')
    const exp = await kubo.ipfs(['dag', 'export', root], { timeoutMs: 60_000 })
    expect(exp.code, exp.stderr).toBe(0)
    await mkdir(dir, { recursive: true })
    await writeFile(car, exp.stdout)
    expect((await stat(car)).size).toBeGreaterThan(0)
    const target = await initRepo(dir, 'from-kubo')
    const imp = await cli(['import', car, '--repo', target.repo, '--json'])
    expect(imp.code, imp.stderr).toBe(0)
    expect(JSON.parse(imp.stdout).roots).toEqual([{ root, level: 'full' }])
    const verify = await cli(['verify', root, '--repo', target.repo])
    expect(verify.code, verify.stderr).toBe(0)
  }, 180_000)
})

describe('IPFS Cluster: a plan pinned with a replication factor over two Kubo nodes', () => {
  it('two cluster peers hold the plan on both Kubo nodes; a getter pulls from both and completes when one is killed mid-pull', async (ctx) => {
    const bins = skip ? undefined : clusterBins()
    if (bins == null) ctx.skip()
    // noisy 12-bit images: a pull long enough to stop a Kubo node in the middle of it
    const big = join(dir, 'big')
    await mkdir(big, { recursive: true })
    for (let i = 0; i < 8; i++) await writeFile(join(big, `img${i}.png`), encodePng(synthesizeImage(1024, 1024, 12, false, 1, i + 1)))
    const src = await initRepo(dir, 'cluster-seeder', seeder.repo)
    const pub = await cli(['publish', big, '--repo', src.repo, '--json'], { timeoutMs: 300_000 })
    expect(pub.code, pub.stderr).toBe(0)
    const bigRoot = JSON.parse(pub.stdout).root
    const marked = await cli(['pin-plan', bigRoot, '--repo', src.repo])
    expect(marked.code, marked.stderr).toBe(0)
    const plan = marked.stdout.trim().split('\n').map(l => l.split(' ') as ['recursive' | 'direct', string])
    const serve = await startServe(serves, src.repo)

    const kubosHere: KuboNode[] = []
    const peers: ClusterPeer[] = []
    try {
      for (const name of ['kubo-c1', 'kubo-c2']) {
        const k = await KuboNode.init(kubo.bin, join(dir, name), join(seeder.repo, 'swarm.key'))
        kubos.push(k)
        kubosHere.push(k)
        await k.start()
        await k.ok(['swarm', 'connect', await serve.addr()])
      }
      const secret = randomBytes(32).toString('hex')
      for (const [i, k] of kubosHere.entries()) peers.push(await ClusterPeer.init(bins!, join(dir, `cluster-${i}`), k, secret))
      await peers[0].start()
      await peers[1].start(peers[0].multiaddr)
      const deadline = Date.now() + 60_000
      for (;;) {
        const ls = await peers[0].ctl(['peers', 'ls'])
        if (ls.code === 0 && ls.stdout.toString().includes(peers[1].peerId)) break
        if (Date.now() > deadline) throw new Error(`cluster peers did not meet: ${ls.stdout.toString()} ${ls.stderr}`)
        await new Promise(resolve => setTimeout(resolve, 500))
      }
      // the plan, as an operator pins it: replication factor 2, direct vs recursive as marked
      for (const [mode, cid] of plan) {
        const res = await peers[0].ctl(['pin', 'add', '--rmin', '2', '--rmax', '2', '--mode', mode, '--no-status', cid])
        expect(res.code, res.stderr).toBe(0)
      }
      // both Kubo nodes end up holding every pin of the plan
      for (const k of kubosHere) {
        const until = Date.now() + 120_000
        for (;;) {
          const rec = new Set((await k.ok(['pin', 'ls', '--type=recursive', '--quiet'])).trim().split('\n'))
          const dir2 = new Set((await k.ok(['pin', 'ls', '--type=direct', '--quiet'])).trim().split('\n'))
          if (plan.every(([mode, cid]) => (mode === 'recursive' ? rec : dir2).has(cid))) break
          if (Date.now() > until) throw new Error(`Kubo ${k.path} did not pin the plan: ${await peers[0].ctl(['status'])}`)
          await new Promise(resolve => setTimeout(resolve, 500))
        }
      }
      await serve.stop()

      // a getter with both Kubo nodes as peers; the first is killed once it has sent a few blocks
      const getter = await initRepo(dir, 'cluster-getter', seeder.repo)
      const out = join(dir, 'cluster-out')
      const [victim, survivor] = kubosHere
      const sentBy = async (k: KuboNode): Promise<number> => JSON.parse(await k.ok(['bitswap', 'stat', '--enc=json'])).BlocksSent
      const victimBefore = await sentBy(victim)
      const survivorBefore = await sentBy(survivor)
      const pull = cli(['get', bigRoot, '--format', 'j2c', '-o', out, '--repo', getter.repo, '--peer', victim.multiaddr, '--peer', survivor.multiaddr, '--json'], { timeoutMs: 300_000 })
      let killedAfter = -1
      const until = Date.now() + 60_000
      while (Date.now() < until) {
        const sent = await sentBy(victim).catch(() => 0)
        if (sent - victimBefore >= 3) { killedAfter = sent - victimBefore; break }
        await new Promise(resolve => setTimeout(resolve, 50))
      }
      await victim.kill()
      const res = await pull
      expect(res.code, res.stderr).toBe(0)
      expect(killedAfter).toBeGreaterThan(0)
      const survivorSent = (await sentBy(survivor)) - survivorBefore
      const doc = JSON.parse(res.stdout)
      const leaves = doc.fetched.blocks as number
      console.log(`[cluster] ${plan.length} pins (replication 2) on 2 Kubo nodes; the victim was killed after sending ${killedAfter} blocks, the survivor sent ${survivorSent}; the getter stored ${leaves} blocks`)
      expect(survivorSent).toBeGreaterThan(0)
      // the outputs are the seeder's codestreams
      const local = join(dir, 'cluster-local')
      expect((await cli(['get', bigRoot, '--format', 'j2c', '-o', local, '--repo', src.repo])).code).toBe(0)
      await expectSameTree(local, out)
    } finally {
      for (const p of peers) await p.stop().catch(() => {})
      for (const k of kubosHere) await k.stop().catch(() => {})
    }
  }, 600_000)
})
