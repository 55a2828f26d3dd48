/**
 * Malicious and faulty peers, as real processes on 127.0.0.1: a peer serving bytes that do not
 * match the CID (rejected; the blocks come from the honest peer), a peer serving a garbage root
 * (a clean FormatError), a peer that never answers (timeout; the other peer serves).
 */
import { readFile, readdir, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { Repo } from '../../src/repo/index.js'
import { cli } from '../helpers/cli.js'
import { EvilProc } from '../helpers/evil-proc.js'
import { ServeProc } from '../helpers/serve.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>
let seeder: string
let root: string
let garbageRoot: string
let honest: ServeProc
const evils: EvilProc[] = []

async function init (name: string): Promise<string> {
  const repo = join(dir, name)
  const res = await cli(['init', '--repo', repo, '--swarm-key', join(seeder, 'swarm.key')])
  expect(res.code, res.stderr).toBe(0)
  return repo
}

/** Every block the repo holds hashes to its CID (nothing forged was stored). */
async function allBlocksIntact (path: string): Promise<number> {
  const repo = await Repo.open({ path })
  try {
    let n = 0
    for await (const { cid } of repo.blockstore.getAll()) {
      await repo.get(CID.createV1(0x55, cid.multihash)) // reads and verifies the hash
      n++
    }
    return n
  } finally { await repo.close() }
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-evil-'))
  seeder = join(dir, 'seeder')
  expect((await cli(['init', '--repo', seeder])).code).toBe(0)
  await mkdir(join(dir, 'in'))
  for (let i = 0; i < 4; i++) await writeFile(join(dir, 'in', `n${i}.png`), encodePng(synthesizeImage(512, 512, 12, false, 1, 40 + i)))
  const pub = await cli(['publish', join(dir, 'in'), '--repo', seeder, '--json'])
  expect(pub.code, pub.stderr).toBe(0)
  root = JSON.parse(pub.stdout).root
  // a garbage root: valid hash, dag-cbor, but not a mist node
  const bytes = dagCbor.encode({ mist: 'image', version: 1, width: 'wide', levels: [] })
  const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
  const r = await Repo.open({ path: seeder })
  await r.putBlocks([{ cid, bytes }])
  await r.close()
  garbageRoot = cid.toString()
  // the evil peers hold the same blocks (from a CAR file)
  expect((await cli(['export', root, '-o', join(dir, 'all.car'), '--repo', seeder])).code).toBe(0)
  for (const name of ['evil-wrong', 'evil-stall']) {
    const repo = await init(name)
    expect((await cli(['import', join(dir, 'all.car'), '--repo', repo])).code).toBe(0)
  }
  honest = new ServeProc(['--repo', seeder, '--listen', '/ip4/127.0.0.1/tcp/0'])
  await honest.ready
  // the reference: a local get on the seeder (through its running node)
  const ref = await cli(['get', root, '-o', join(dir, 'ref'), '--repo', seeder])
  expect(ref.code, ref.stderr).toBe(0)
}, 240_000)

afterAll(async () => {
  await Promise.all(evils.map(async e => e.stop().catch(() => {})))
  await honest?.kill().catch(() => {})
  await cleanup?.()
})

async function sameAsReference (out: string): Promise<void> {
  const files = (await readdir(join(dir, 'ref'))).sort()
  expect((await readdir(out)).sort()).toEqual(files)
  for (const f of files) expect(Buffer.compare(await readFile(join(out, f)), await readFile(join(dir, 'ref', f))), f).toBe(0)
}

describe('a peer that serves bytes not matching the CID', () => {
  it('its blocks are rejected and fetched from the honest peer; nothing forged is stored', async () => {
    const evil = new EvilProc(join(dir, 'evil-wrong'), 'wrong')
    evils.push(evil)
    const getter = await init('getter-wrong')
    // the evil peer first: it gets every want as early as the honest one
    const res = await cli(['get', root, '-o', join(dir, 'out-wrong'), '--repo', getter, '--peer', await evil.addr(), '--peer', await honest.addr(), '--json'])
    expect(res.code, res.stderr).toBe(0)
    const doc = JSON.parse(res.stdout)
    const { peerId: evilId } = await evil.ready
    expect(await evil.served()).toBeGreaterThan(0) // it did answer wants, with wrong bytes
    expect(Object.keys(doc.fetched.peers)).not.toContain(evilId) // none of its blocks was accepted
    await sameAsReference(join(dir, 'out-wrong'))
    expect(await allBlocksIntact(getter)).toBeGreaterThan(0)
    // a get stores leaves, not the UnixFS level files: verify fetches what it lacks from the honest peer
    const v = await cli(['verify', root, '--repo', getter, '--peer', await honest.addr()])
    expect(v.code, v.stdout).toBe(0)
  })

  it('with only the evil peer, get fails with MissingBlockError after --timeout and stores nothing forged', async () => {
    const evil = evils[0]
    const getter = await init('getter-only-wrong')
    const t0 = Date.now()
    const res = await cli(['get', root, '-o', join(dir, 'out-only-wrong'), '--repo', getter, '--peer', await evil.addr(), '--timeout', '3'])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/MissingBlockError: .*did not arrive within 3\.0 s/)
    expect(Date.now() - t0).toBeLessThan(60_000)
    await allBlocksIntact(getter)
    await expect(readdir(join(dir, 'out-only-wrong'))).rejects.toThrow()
  })
})

describe('a peer that serves a garbage root', () => {
  it('get and verify end in a clean FormatError naming the root; no output', async () => {
    const getter = await init('getter-garbage')
    const res = await cli(['get', garbageRoot, '-o', join(dir, 'garbage.png'), '--repo', getter, '--peer', await honest.addr(), '--timeout', '5'])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(`FormatError: image root ${garbageRoot}`)
    await expect(readFile(join(dir, 'garbage.png'))).rejects.toThrow()
    const v = await cli(['verify', garbageRoot, '--repo', getter, '--json'])
    expect(v.code).toBe(1)
    expect(JSON.parse(v.stdout).problems[0]).toMatchObject({ kind: 'format', error: 'FormatError' })
  })
})

describe('a peer that stalls', () => {
  it('alone: a MissingBlockError after --timeout, never a hang', async () => {
    const stall = new EvilProc(join(dir, 'evil-stall'), 'stall')
    evils.push(stall)
    const getter = await init('getter-stall')
    const t0 = Date.now()
    const res = await cli(['get', root, '--level', '0', '-o', join(dir, 'out-stall'), '--repo', getter, '--peer', await stall.addr(), '--timeout', '3'])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/MissingBlockError: .*did not arrive within 3\.0 s from the 1 connected peer/)
    expect(Date.now() - t0).toBeLessThan(60_000)
  })

  it('with an honest peer: the blocks come from the honest one', async () => {
    const stall = evils[1]
    const getter = await init('getter-stall-honest')
    const t0 = Date.now()
    const res = await cli(['get', root, '-o', join(dir, 'out-stall-honest'), '--repo', getter, '--peer', await stall.addr(), '--peer', await honest.addr(), '--timeout', '10', '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(Date.now() - t0).toBeLessThan(60_000)
    expect(Object.keys(JSON.parse(res.stdout).fetched.peers)).toEqual([(await honest.ready).peerId])
    await sameAsReference(join(dir, 'out-stall-honest'))
  })
})
