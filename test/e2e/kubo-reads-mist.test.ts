/**
 * Kubo (the Go reference implementation, MIST_KUBO) reads what mist-p2p serves, on 127.0.0.1 only:
 * with the consortium's swarm key it connects to `mist-p2p serve`; `ipfs cat` of a level file of real
 * 16-bit CT, a large radiograph and a PNG is the codestream `get --format j2c` writes, and OpenJPEG
 * decodes it to mist-p2p's level pixels; `ipfs dag get` shows an image root's levels; a Kubo node with
 * another key or none cannot connect and gets nothing. Kubo's gateway serves a level file and its
 * blocks (raw and CAR) that check out against the level's CIDs. A getter with a mist-p2p seeder and a
 * Kubo node as peers: what crosses the wire from each.
 */
import { createHash } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { CarBlockIterator } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeImageRoot, type ImageRoot } from '../../src/chunker/index.js'
import { Repo } from '../../src/repo/index.js'
import { planImageLevel } from '../../src/level/index.js'
import { decodeImageLevel, stripImageExtension } from '../../src/retrieve/index.js'
import type { RasterImage } from '../../src/types.js'
import { BIN, cli } from '../helpers/cli.js'
import { KuboNode, kuboBin, runTool } from '../helpers/kubo.js'
import { bytesOf, opjDecode } from '../helpers/opj.js'
import { initRepo, startServe } from '../helpers/repos.js'
import type { ServeProc } from '../helpers/serve.js'
import { tempDir } from '../helpers/tmp.js'

// a 16-bit CT slice, a 2128x2000 12-bit radiograph and an 8-bit PNG (MIST_REAL_FIXTURES)
const FIXTURES = [
  'github-DICOMHTJ2K/uncompressed/CT1_UNC.dcm',
  'derived/xray_uncompressed/DX_chest_966_2128x2000_12bit_ExplicitLE.dcm',
  'github-reproduce-chexnet/00000075_000.png'
]

interface Published { name: string, cid: CID, root: ImageRoot, levels: number[], pixels: Map<number, { data: RasterImage['data'], like: { components: number, bitsStored: number, signed: boolean } }> }

let dir: string
let cleanup: (() => Promise<void>) | undefined
const serves: ServeProc[] = []
const kubos: KuboNode[] = []
let kubo: KuboNode | undefined
let seeder: { repo: string, peerId: string }
let seederProc: ServeProc
let datasetRoot: string
const images: Published[] = []
let skip: string | undefined
const METER = fileURLToPath(new URL('../../dist/bench/hooks/meter.js', import.meta.url))

function widen (image: RasterImage, like: { bitsStored: number, signed: boolean }): RasterImage['data'] {
  if (like.bitsStored <= 8) return image.data instanceof Uint8Array ? image.data : Uint8Array.from(image.data)
  const out = like.signed ? new Int16Array(image.data.length) : new Uint16Array(image.data.length)
  out.set(image.data)
  return out
}

/** The level codestream `get --format j2c` writes from the seeder's repo (through its serve), kept for later tests. */
async function seederJ2c (img: Published, level: number): Promise<Buffer> {
  const out = join(dir, `${img.name}-${level}.j2c`)
  const cached = await readFile(out).catch(() => undefined)
  if (cached != null) return cached
  const got = await cli(['get', img.cid.toString(), '--level', String(level), '--format', 'j2c', '-o', out, '--repo', seeder.repo])
  expect(got.code, got.stderr).toBe(0)
  return readFile(out)
}

/** sha2-256 of `bytes` equals the CID's digest. */
function matchesCid (cid: CID, bytes: Uint8Array): boolean {
  return Buffer.compare(createHash('sha256').update(bytes).digest(), Buffer.from(cid.multihash.digest)) === 0
}

beforeAll(async () => {
  const bin = kuboBin()
  const fixtures = process.env.MIST_REAL_FIXTURES
  if (bin == null) { skip = 'MIST_KUBO is not set'; return }
  if (fixtures == null || fixtures === '' || process.env.MIST_OPJ_DECOMPRESS == null || process.env.MIST_OPJ_DECOMPRESS === '') {
    skip = 'MIST_REAL_FIXTURES and MIST_OPJ_DECOMPRESS are needed'
    console.warn(`[skip] ${skip}: the Kubo-reads-mist-p2p tests are skipped`)
    return
  }
  ({ dir, cleanup } = await tempDir('mist-kubo-read-'))
  seeder = await initRepo(dir, 'seeder')
  const pub = await cli(['publish', ...FIXTURES.map(f => join(fixtures, f)), '--repo', seeder.repo, '--json'], { timeoutMs: 300_000 })
  expect(pub.code, pub.stderr).toBe(0)
  const doc = JSON.parse(pub.stdout)
  datasetRoot = doc.root
  // the level pixels mist-p2p decodes, before serve takes the repo
  const repo = await Repo.open({ path: seeder.repo })
  try {
    for (const item of doc.images) {
      const cid = CID.parse(item.root)
      const root = decodeImageRoot(await repo.get(cid), cid)
      const D = root.codestream.decompositions
      const levels = [...new Set([0, Math.floor(D / 2), D])]
      const pixels: Published['pixels'] = new Map()
      for (const k of levels) {
        const ours = await decodeImageLevel(repo, planImageLevel(cid, root, k))
        const like = { components: root.components, bitsStored: ours.image.bitsStored <= 8 && root.signed ? 9 : root.codestream.bitDepth, signed: root.codestream.signed }
        pixels.set(k, { data: widen(ours.image, like), like })
      }
      images.push({ name: item.name, cid, root, levels, pixels })
    }
  } finally {
    await repo.close()
  }
  seederProc = await startServe(serves, seeder.repo)
  kubo = await KuboNode.init(bin, join(dir, 'kubo'), join(seeder.repo, 'swarm.key'))
  kubos.push(kubo)
  await kubo.start()
  await kubo.ok(['swarm', 'connect', await seederProc.addr()])
}, 600_000)

afterAll(async () => {
  await Promise.all(kubos.map(async k => k.kill().catch(() => {})))
  await Promise.all(serves.map(async s => s.kill().catch(() => {})))
  await cleanup?.()
})

describe('Kubo reads mist-p2p over the private network', () => {
  it('ipfs cat of level 0, a middle and the full level = get --format j2c; OpenJPEG decodes it to the level pixels', async (ctx) => {
    if (skip != null) ctx.skip()
    const k = kubo as KuboNode
    let checked = 0
    for (const img of images) {
      const D = img.root.codestream.decompositions
      for (const level of img.levels) {
        const file = img.root.levels[level].file.toString()
        const cat = await k.ipfs(['cat', file], { timeoutMs: 120_000 })
        expect(cat.code, cat.stderr).toBe(0)
        expect(Buffer.compare(cat.stdout, await seederJ2c(img, level)), `${img.name} level ${level}: ipfs cat vs get --format j2c`).toBe(0)
        const { data, like } = img.pixels.get(level)!
        const decoded = await opjDecode(cat.stdout, D - level, like)
        expect(Buffer.compare(bytesOf(decoded), bytesOf(data)), `${img.name} level ${level}: opj_decompress -r ${D - level} of Kubo's bytes vs mist-p2p's pixels`).toBe(0)
        checked++
      }
    }
    expect(checked).toBeGreaterThanOrEqual(7)
    // the large radiograph's full level spans several leaves: Kubo walked a multi-block UnixFS file
    expect(Math.max(...images.map(i => i.root.levels[i.root.levels.length - 1].leaves))).toBeGreaterThan(4)
  }, 300_000)

  it('ipfs dag get of an image root shows its levels and their files; of the dataset root, its entries', async (ctx) => {
    if (skip != null) ctx.skip()
    const k = kubo as KuboNode
    for (const img of images) {
      const node = JSON.parse(await k.ok(['dag', 'get', img.cid.toString()]))
      expect(node.mist).toBe('image')
      expect(node.levels).toHaveLength(img.root.levels.length)
      for (const [i, l] of img.root.levels.entries()) {
        expect(node.levels[i]).toMatchObject({ level: l.level, width: l.width, height: l.height, bytes: l.bytes, file: { '/': l.file.toString() } })
      }
      // a path through the root: Kubo resolves the level file's link by name
      const viaPath = await k.ok(['dag', 'resolve', `/ipfs/${img.cid}/levels/0/file`])
      expect(viaPath.trim()).toBe(img.root.levels[0].file.toString())
    }
    const ds = JSON.parse(await k.ok(['dag', 'get', datasetRoot]))
    expect(ds.mist).toBe('dataset')
    expect(ds.entries.map((e: any) => e.root['/']).sort()).toEqual(images.map(i => i.cid.toString()).sort())
  }, 120_000)

  it('a Kubo node with another swarm key, or with none, cannot connect and gets nothing', async (ctx) => {
    if (skip != null) ctx.skip()
    const other = await initRepo(dir, 'other-network') // a fresh swarm key
    const outsider = await KuboNode.init((kubo as KuboNode).bin, join(dir, 'kubo-outsider'), join(other.repo, 'swarm.key'))
    kubos.push(outsider)
    const file = images[0].root.levels[0].file.toString()
    const tryGet = async (): Promise<void> => {
      const connect = await outsider.ipfs(['swarm', 'connect', await seederProc.addr()], { timeoutMs: 60_000 })
      expect(connect.code, connect.stdout.toString()).not.toBe(0)
      const cat = await outsider.ipfs(['cat', '--timeout=3s', file])
      expect(cat.code).not.toBe(0)
      expect(cat.stdout.length).toBe(0)
      expect(JSON.parse(await outsider.ok(['swarm', 'peers', '--enc=json'])).Peers ?? []).toEqual([])
    }
    await outsider.start()
    await tryGet()
    await outsider.stop()
    // no key at all: a node of the public network's kind (its public endpoints stay off)
    await rm(join(outsider.path, 'swarm.key'))
    const open = await KuboNode.init((kubo as KuboNode).bin, join(dir, 'kubo-open'), null)
    kubos.push(open)
    await open.start()
    const connect = await open.ipfs(['swarm', 'connect', await seederProc.addr()], { timeoutMs: 60_000 })
    expect(connect.code).not.toBe(0)
    const cat = await open.ipfs(['cat', '--timeout=3s', file])
    expect(cat.code).not.toBe(0)
    expect(cat.stdout.length).toBe(0)
    await open.stop()
    // and neither ever appeared among the seeder's peers: Kubo's peer list is the one mist-p2p node
    const peers = JSON.parse(await (kubo as KuboNode).ok(['swarm', 'peers', '--enc=json'])).Peers ?? []
    expect(peers.map((p: any) => p.Peer)).toEqual([seeder.peerId])
  }, 180_000)

  it('Kubo\'s gateway on 127.0.0.1 serves a level file, its blocks as application/vnd.ipld.raw and as a CAR, all matching the level\'s CIDs', async (ctx) => {
    if (skip != null) ctx.skip()
    const k = kubo as KuboNode
    expect(k.gateway).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    const img = images.find(i => i.root.levels[i.root.levels.length - 1].leaves > 4) ?? images[0]
    const level = img.levels[1] ?? 0
    const lv = img.root.levels[level]
    const file = lv.file
    const expectedLeaves = [...img.root.leaves.slice(0, lv.leaves).map(l => l.cid), img.root.eoc]
    // the whole file: the level codestream (the seeder's j2c output, compared in the first test)
    const whole = await fetch(`${k.gateway}/ipfs/${file}`)
    expect(whole.status).toBe(200)
    const body = new Uint8Array(await whole.arrayBuffer())
    expect(Buffer.compare(body, await seederJ2c(img, level))).toBe(0)
    // the file node as a raw block: a dag-pb node linking exactly the level's leaves and the EOC leaf
    const raw = await fetch(`${k.gateway}/ipfs/${file}`, { headers: { accept: 'application/vnd.ipld.raw' } })
    expect(raw.status).toBe(200)
    expect(raw.headers.get('content-type')).toBe('application/vnd.ipld.raw')
    const node = new Uint8Array(await raw.arrayBuffer())
    expect(matchesCid(file, node)).toBe(true)
    expect(dagPb.decode(node).Links.map(l => l.Hash.toString())).toEqual(expectedLeaves.map(c => c.toString()))
    // each leaf as a raw block (?format=raw): hashes to its CID; concatenated, they are the level codestream
    const parts: Uint8Array[] = []
    for (const leaf of expectedLeaves) {
      const res = await fetch(`${k.gateway}/ipfs/${leaf}?format=raw`)
      expect(res.status).toBe(200)
      expect(res.headers.get('content-type')).toBe('application/vnd.ipld.raw')
      const bytes = new Uint8Array(await res.arrayBuffer())
      expect(matchesCid(leaf, bytes), `leaf ${leaf}`).toBe(true)
      parts.push(bytes)
    }
    expect(Buffer.compare(Buffer.concat(parts), body)).toBe(0)
    // the file as a CAR: declares the file, holds exactly its node, the leaves and the EOC, each verified
    const car = await fetch(`${k.gateway}/ipfs/${file}?format=car`)
    expect(car.status).toBe(200)
    expect(car.headers.get('content-type')).toMatch(/^application\/vnd\.ipld\.car/)
    const iterator = await CarBlockIterator.fromBytes(new Uint8Array(await car.arrayBuffer()))
    expect((await iterator.getRoots()).map(r => r.toString())).toEqual([file.toString()])
    const held: string[] = []
    for await (const block of iterator) {
      expect(matchesCid(block.cid as CID, block.bytes), `CAR block ${block.cid}`).toBe(true)
      held.push(block.cid.toString())
    }
    expect(held.sort()).toEqual([file, ...expectedLeaves].map(c => c.toString()).sort())
  }, 120_000)

  it('every address Kubo knows or dialed is on 127.0.0.1', async (ctx) => {
    if (skip != null) ctx.skip()
    const addrs = await (kubo as KuboNode).knownAddresses()
    expect(addrs.length).toBeGreaterThan(0)
    for (const a of addrs) expect(a).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+/)
  }, 60_000)
})

/** `mist-p2p get` in a child process whose TCP bytes are counted (bench/hooks/meter.ts). */
async function meteredGet (args: string[], env: Record<string, string> = {}): Promise<{ code: number, stderr: string, tcpBytesRead: number }> {
  const meter = join(dir, `meter-${Date.now()}.json`)
  const res = await runTool(process.execPath, ['--import', METER, BIN, ...args], { env: { MIST_BENCH_METER: meter, ...env }, timeoutMs: 300_000 })
  const m = JSON.parse(await readFile(meter, 'utf8'))
  return { code: res.code, stderr: res.stderr, tcpBytesRead: m.tcpBytesRead }
}

describe('a getter with a mist-p2p seeder and a Kubo node as peers', () => {
  it('completes, takes blocks from both, each block once; bitswap alone asks everyone and pays for it', async (ctx) => {
    if (skip != null) ctx.skip()
    const k = kubo as KuboNode
    const kuboAddr = k.multiaddr
    // Kubo holds the whole dataset (pinned from the seeder); a mirror seeder holds levels 0..1 only
    await k.ok(['pin', 'add', '--timeout=120s', datasetRoot], { timeoutMs: 150_000 })
    const mirror = await initRepo(dir, 'mirror', seeder.repo)
    const mir = await cli(['mirror', datasetRoot, '--level', '1', '--repo', mirror.repo, '--peer', await seederProc.addr()])
    expect(mir.code, mir.stderr).toBe(0)
    const mirrorProc = await startServe(serves, mirror.repo)
    const leafBytes = images.reduce((n, i) => n + i.root.leaves.reduce((m, l) => m + l.size, 0), 0)
    const fromMirror = images.reduce((n, i) => n + i.root.levels[Math.min(1, i.root.levels.length - 1)].leaves, 0)
    const onlyKubo = images.reduce((n, i) => n + i.root.leaves.length, 0) - fromMirror

    const stat = async (): Promise<{ BlocksSent: number, DataSent: number }> => JSON.parse(await k.ok(['bitswap', 'stat', '--enc=json']))
    const before = await stat()
    const getter = await initRepo(dir, 'mixed-getter', seeder.repo)
    const out = join(dir, 'mixed-out')
    const res = await meteredGet(['get', datasetRoot, '--format', 'j2c', '-o', out, '--repo', getter.repo, '--peer', await mirrorProc.addr(), '--peer', kuboAddr])
    expect(res.code, `${res.stderr}\nKubo's peers: ${await k.ok(['swarm', 'peers'])}\nKubo's log: ${k.stderr.slice(-3000)}`).toBe(0)
    const after = await stat()
    for (const img of images) {
      const D = img.root.codestream.decompositions
      const mine = await readFile(join(out, `${stripImageExtension(img.name)}.j2c`))
      expect(Buffer.compare(mine, await seederJ2c(img, D)), img.name).toBe(0)
    }
    // the mirror sent levels 0..1 over /mist/blocks; Kubo, asked over bitswap only for what the mirror lacks,
    // sent exactly those leaves: no block crossed twice
    const kuboBlocks = after.BlocksSent - before.BlocksSent
    expect(kuboBlocks).toBeGreaterThanOrEqual(onlyKubo)
    expect(kuboBlocks).toBeLessThanOrEqual(onlyKubo + 2)
    console.log(`[kubo] mixed swarm (mirror of levels 0..1 + Kubo with everything): Kubo sent ${kuboBlocks} blocks / ${after.DataSent - before.DataSent} B (leaves only it held: ${onlyKubo}); getter read ${res.tcpBytesRead} B on TCP for ${leafBytes} B of leaves (${(res.tcpBytesRead / leafBytes).toFixed(3)}x)`)

    // both hold everything: the block protocol takes it all from the mist-p2p seeder, once
    const b2 = await stat()
    const g2 = await initRepo(dir, 'both-full-getter', seeder.repo)
    const r2 = await meteredGet(['get', datasetRoot, '--format', 'j2c', '-o', join(dir, 'both-out'), '--repo', g2.repo, '--peer', await seederProc.addr(), '--peer', kuboAddr])
    expect(r2.code, r2.stderr).toBe(0)
    const a2 = await stat()
    expect(r2.tcpBytesRead / leafBytes).toBeLessThan(1.1)
    // bitswap alone asks every connected peer: both send most blocks
    const b3 = await stat()
    const g3 = await initRepo(dir, 'bitswap-getter', seeder.repo)
    const r3 = await meteredGet(['get', datasetRoot, '--format', 'j2c', '-o', join(dir, 'bitswap-out'), '--repo', g3.repo, '--peer', await seederProc.addr(), '--peer', kuboAddr], { MIST_P2P_BITSWAP_ONLY: '1' })
    expect(r3.code, r3.stderr).toBe(0)
    const a3 = await stat()
    console.log(`[kubo] both full, block protocol: Kubo sent ${a2.BlocksSent - b2.BlocksSent} blocks, wire ${(r2.tcpBytesRead / leafBytes).toFixed(3)}x the leaves; bitswap only: Kubo sent ${a3.BlocksSent - b3.BlocksSent} of ${images.reduce((n, i) => n + i.root.leaves.length, 0)} leaves, wire ${(r3.tcpBytesRead / leafBytes).toFixed(3)}x the leaves`)
  }, 600_000)
})
