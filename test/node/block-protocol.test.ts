/**
 * The bulk block protocol (/mist/blocks/1.0.0) between real processes on 127.0.0.1: pulls use
 * it instead of bitswap, two seeders split a pull so every block crosses the wire once, a
 * bitswap-only peer still serves (fallback), and hostile requests end the stream without
 * taking the seeder down.
 */
import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { lpStream } from '@libp2p/utils'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng, readInput } from '../../src/formats/index.js'
import { BLOCK_PROTOCOL, createMistNode, loadOrCreateIdentity, loadSwarmKey, type MistNode } from '../../src/node/index.js'
import { MAX_REQUEST_BLOCKS, STATUS_BLOCK, STATUS_NOT_HELD, encodeRequest } from '../../src/node/block-protocol.js'
import { Repo } from '../../src/repo/index.js'
import { BIN, cli } from '../helpers/cli.js'
import { initRepo as initRepoIn, startServe } from '../helpers/repos.js'
import type { ServeProc } from '../helpers/serve.js'
import { tempDir } from '../helpers/tmp.js'

const METER = fileURLToPath(new URL('../../dist/bench/hooks/meter.js', import.meta.url))

let dir: string
let cleanup: () => Promise<void>
const serves: ServeProc[] = []
let root: string
let seeder: { repo: string, peerId: string }
let copy: { repo: string, peerId: string }
let seederProc: ServeProc

const initRepo = async (name: string, keyFrom?: string): Promise<{ repo: string, peerId: string }> => await initRepoIn(dir, name, keyFrom)

const serve = async (repo: string, env: Record<string, string> = {}): Promise<ServeProc> => await startServe(serves, repo, { env })

/** `mist-p2p get` with the benchmark's socket meter loaded: its JSON and the TCP bytes it read. */
async function meteredGet (args: string[], env: Record<string, string> = {}): Promise<{ doc: any, wireRead: number, stderr: string }> {
  const meterFile = join(dir, `meter-${Math.random().toString(36).slice(2)}.json`)
  const { code, stdout, stderr } = await new Promise<{ code: number, stdout: string, stderr: string }>(resolve => {
    execFile(process.execPath, ['--import', METER, BIN, ...args], { env: { ...process.env, ...env, MIST_BENCH_METER: meterFile }, maxBuffer: 64 * 1024 * 1024, timeout: 180_000 }, (err: any, out, errOut) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout: String(out), stderr: String(errOut) })
    })
  })
  expect(code, stderr).toBe(0)
  const meter = JSON.parse(await readFile(meterFile, 'utf8'))
  return { doc: JSON.parse(stdout), wireRead: meter.tcpBytesRead, stderr }
}

async function expectBitExact (doc: any): Promise<void> {
  expect(doc.outputs.length).toBe(16)
  for (const o of doc.outputs) {
    const got = await readInput(o.paths[0])
    const src = await readInput(join(dir, 'imgs', o.name))
    if (got.kind !== 'image' || src.kind !== 'image') throw new Error('expected images')
    expect(Buffer.compare(Buffer.from(got.image.data.buffer, got.image.data.byteOffset, got.image.data.byteLength), Buffer.from(src.image.data.buffer, src.image.data.byteOffset, src.image.data.byteLength)), o.name).toBe(0)
  }
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-blocks-'))
  seeder = await initRepo('seeder')
  await mkdir(join(dir, 'imgs'))
  // 16 noisy 12-bit 512x512 images: ~6 MB of blocks, several leaves each
  for (let i = 0; i < 16; i++) await writeFile(join(dir, 'imgs', `img${String(i).padStart(2, '0')}.png`), encodePng(synthesizeImage(512, 512, 12, false, 1, i + 1)))
  const pub = await cli(['publish', join(dir, 'imgs'), '--repo', seeder.repo, '--json'])
  expect(pub.code, pub.stderr).toBe(0)
  root = JSON.parse(pub.stdout).root
  // a second full copy under another identity (a mirror)
  copy = await initRepo('copy', seeder.repo)
  const m = await cli(['mirror', root, '--repo', copy.repo, '--peer', (await (seederProc = await serve(seeder.repo)).addr()), '--json'])
  expect(m.code, m.stderr).toBe(0)
}, 300_000)

afterAll(async () => {
  await Promise.all(serves.map(async s => s.kill().catch(() => {})))
  await cleanup?.()
})

describe('bulk block protocol', () => {
  it('a pull goes over the block protocol, not bitswap, and is bit-exact', async () => {
    const getter = await initRepo('g1', seeder.repo)
    const { doc, wireRead } = await meteredGet(['get', root, '--level', 'full', '-o', join(dir, 'o1'), '--repo', getter.repo, '--peer', await seederProc.addr(), '--json'])
    expect(doc.fetched.freshBlocks).toBeGreaterThan(16 * 2)
    expect(doc.fetched.bitswapBlocks).toBe(0)
    // every block the level needs (DAG nodes included) came from the seeder over the protocol
    expect(doc.fetched.peers).toEqual({ [seeder.peerId]: doc.fetched.blocks })
    const codestream = doc.outputs.reduce((n: number, o: any) => n + o.bytes, 0)
    expect(wireRead / codestream).toBeLessThan(1.1)
    await expectBitExact(doc)
  })

  it('two seeders split the pull: both send, and each block crosses the wire once', async () => {
    const mirrorProc = await serve(copy.repo)
    const getter = await initRepo('g2', seeder.repo)
    const { doc, wireRead } = await meteredGet(['get', root, '--level', 'full', '-o', join(dir, 'o2'), '--repo', getter.repo, '--peer', await seederProc.addr(), '--peer', await mirrorProc.addr(), '--json'])
      .finally(async () => mirrorProc.stop())
    expect(doc.fetched.bitswapBlocks).toBe(0)
    const byPeer = doc.fetched.peers as Record<string, number>
    expect(Object.keys(byPeer).sort()).toEqual([seeder.peerId, copy.peerId].sort())
    expect(Object.values(byPeer).reduce((a, b) => a + b, 0)).toBe(doc.fetched.blocks)
    // bitswap asked both seeders for every block: wire / codestream was 1.94 (docs/DESIGN.md)
    const codestream = doc.outputs.reduce((n: number, o: any) => n + o.bytes, 0)
    expect(wireRead / codestream).toBeLessThan(1.1)
    await expectBitExact(doc)
  })

  it('a bitswap-only seeder still serves: the getter falls back to bitswap', async () => {
    const plain = await serve(copy.repo, { MIST_P2P_BITSWAP_ONLY: '1' })
    const getter = await initRepo('g3', seeder.repo)
    const { doc } = await meteredGet(['get', root, '--size', '128', '-o', join(dir, 'o3'), '--repo', getter.repo, '--peer', await plain.addr(), '--json'])
      .finally(async () => plain.stop())
    expect(doc.fetched.blocks).toBeGreaterThan(16)
    expect(doc.fetched.bitswapBlocks).toBe(doc.fetched.blocks)
    expect(doc.outputs.every((o: any) => o.width === 128)).toBe(true)
  })

  describe('hostile requests against a running seeder', () => {
    let repo: Repo
    let node: MistNode
    let held: CID
    beforeAll(async () => {
      const mine = await initRepo('prober', seeder.repo)
      repo = await Repo.open({ path: mine.repo })
      node = await createMistNode({ blockstore: repo.blockstore, datastore: repo.datastore, privateKey: await loadOrCreateIdentity(mine.repo), swarmKey: await loadSwarmKey(mine.repo), listen: [] })
      await node.dial(await seederProc.addr())
      held = CID.parse(root)
    }, 60_000)
    afterAll(async () => {
      await node?.stop()
      await repo?.close()
    })

    const open = async (): Promise<any> => node.helia.libp2p.dialProtocol((await import('@multiformats/multiaddr')).multiaddr(await seederProc.addr()), BLOCK_PROTOCOL)

    it('answers held blocks with their bytes and unknown CIDs with NOT_HELD, in order', async () => {
      const unknown = CID.createV1(0x55, await sha256.digest(new TextEncoder().encode('no such block')))
      const stream = await open()
      const lp = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 })
      await lp.write(encodeRequest([unknown, held, unknown]))
      expect([...(await lp.read()).subarray()]).toEqual([STATUS_NOT_HELD])
      expect([...(await lp.read()).subarray()]).toEqual([STATUS_BLOCK])
      const bytes = (await lp.read()).subarray()
      expect(CID.createV1(held.code, await sha256.digest(bytes)).equals(held)).toBe(true)
      expect([...(await lp.read()).subarray()]).toEqual([STATUS_NOT_HELD])
      await stream.close()
    })

    it('garbage, oversized and over-long requests end their stream; the seeder keeps serving', async () => {
      const ended = async (request: Uint8Array): Promise<void> => {
        const stream = await open()
        const lp = lpStream(stream, { maxDataLength: 4 * 1024 * 1024 })
        await lp.write(request).catch(() => {})
        await expect(lp.read({ signal: AbortSignal.timeout(20_000) })).rejects.toThrow()
      }
      await ended(new Uint8Array(64).fill(0xff)) // not CIDs
      await ended(encodeRequest(Array.from({ length: MAX_REQUEST_BLOCKS + 1 }, () => held))) // too many CIDs
      await ended(new Uint8Array(200 * 1024)) // over the request size bound
      // a raw length prefix announcing 1 GiB, then nothing
      {
        const stream = await open()
        stream.send(Uint8Array.from([0x80, 0x80, 0x80, 0x80, 0x04]))
        const lp = lpStream(stream)
        await expect(lp.read({ signal: AbortSignal.timeout(20_000) })).rejects.toThrow()
      }
      // still alive and serving
      const getter = await initRepo('g4', seeder.repo)
      const res = await cli(['get', root, '--size', '64', '-o', join(dir, 'o4'), '--repo', getter.repo, '--peer', await seederProc.addr(), '--json'])
      expect(res.code, res.stderr).toBe(0)
      expect(JSON.parse(res.stdout).fetched.bitswapBlocks).toBe(0)
    })
  })
})
