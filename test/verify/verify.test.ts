/**
 * `mist-p2p verify`: good data passes; a missing block, a corrupted block and a root that lies
 * about its size are each reported with the image, level and block, exit code 1; --drop-corrupt
 * removes a corrupt block so it can be fetched again.
 */
import { readdir, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { levelExtent } from '../../src/chunker/index.js'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { Repo } from '../../src/repo/index.js'
import { verifyRoot } from '../../src/verify/index.js'
import { cli } from '../helpers/cli.js'
import { overwriteBlock, removeBlock } from '../helpers/stored-blocks.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>
let repo: string
let root: string

/** A block's bytes as the repo holds them (checked). */
async function blockBytes (repoPath: string, cid: CID): Promise<Uint8Array> {
  const r = await Repo.open({ path: repoPath })
  try { return await r.get(cid) } finally { await r.close() }
}

async function imageRootOf (name: string): Promise<{ cid: CID, node: any }> {
  const r = await Repo.open({ path: repo })
  try {
    const ds: any = dagCbor.decode(await r.get(CID.parse(root)))
    const entry = ds.entries.find((e: any) => e.name === name)
    return { cid: entry.root, node: dagCbor.decode(await r.get(entry.root)) }
  } finally { await r.close() }
}

/** A fresh repo holding a copy of the published blocks. */
async function copyRepo (name: string): Promise<string> {
  const target = join(dir, name)
  await import('node:fs/promises').then(async fs => fs.cp(repo, target, { recursive: true }))
  return target
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-verify-'))
  await mkdir(join(dir, 'in'))
  await writeFile(join(dir, 'in', 'a.png'), encodePng(synthesizeImage(300, 200, 12, false, 1, 1)))
  await writeFile(join(dir, 'in', 'b.png'), encodePng(synthesizeImage(640, 480, 8, false, 1, 2)))
  repo = join(dir, 'repo')
  const pub = await cli(['publish', join(dir, 'in'), '--repo', repo, '--json'])
  expect(pub.code, pub.stderr).toBe(0)
  root = JSON.parse(pub.stdout).root
})

afterAll(async () => { await cleanup?.() })

describe('verify', () => {
  it('passes on good data, at every level', async () => {
    const res = await cli(['verify', root, '--repo', repo, '--json'])
    expect(res.code, res.stdout + res.stderr).toBe(0)
    const doc = JSON.parse(res.stdout)
    expect(doc).toMatchObject({ ok: true, kind: 'dataset', images: 2, problems: [] })
    // a.png 300x200 and b.png 640x480: every level of both decoded
    const info = JSON.parse((await cli(['info', root, '--repo', repo, '--json'])).stdout)
    expect(doc.levelsDecoded).toBeGreaterThanOrEqual(info.levels.length + 1)
    const low = JSON.parse((await cli(['verify', root, '--level', '0', '--repo', repo, '--json'])).stdout)
    expect(low.ok).toBe(true)
    expect(low.levelsDecoded).toBe(2)
    expect(low.bytes).toBeLessThan(doc.bytes)
    const text = await cli(['verify', root, '--repo', repo])
    expect(text.stdout).toMatch(/^ok {2}/)
  })

  it('reports a missing leaf with the image, level and block, and exits 1', async () => {
    const copy = await copyRepo('missing')
    const { node } = await imageRootOf('b.png')
    const leaf = node.leaves[node.levels[1].leaves - 1].cid as CID // the last leaf of level 1
    await removeBlock(copy, leaf)
    const res = await cli(['verify', root, '--repo', copy, '--json'])
    expect(res.code).toBe(1)
    const doc = JSON.parse(res.stdout)
    expect(doc.ok).toBe(false)
    expect(doc.problems).toContainEqual(expect.objectContaining({ kind: 'missing', name: 'b.png', block: leaf.toString(), error: 'MissingBlockError' }))
    const p = doc.problems.find((x: any) => x.kind === 'missing')
    expect(p.level).toBe(node.levels.findIndex((l: any) => l.leaves > node.leaves.findIndex((x: any) => x.cid.equals(leaf))))
    // the other image is intact and was still checked
    expect(doc.problems.every((x: any) => x.name === 'b.png')).toBe(true)
    const text = await cli(['verify', root, '--repo', copy])
    expect(text.code).toBe(1)
    expect(text.stdout).toContain(`MISSING  b.png, level ${p.level as number}, block ${leaf.toString()}`)
    // the coarser level that does not need the block still verifies
    const low = await cli(['verify', root, '--level', String(p.level - 1), '--repo', copy, '--json'])
    if (p.level > 0) expect(low.code, low.stdout).toBe(0)
  })

  it('reports a corrupted block file on disk', async () => {
    const copy = await copyRepo('corrupt')
    const { node } = await imageRootOf('a.png')
    const leaf = node.leaves[0].cid as CID
    const bytes = Buffer.from(await blockBytes(copy, leaf))
    bytes[Math.floor(bytes.length / 2)] ^= 0x01
    await overwriteBlock(copy, leaf, bytes)
    const res = await cli(['verify', root, '--repo', copy, '--json'])
    expect(res.code).toBe(1)
    const doc = JSON.parse(res.stdout)
    expect(doc.problems).toContainEqual(expect.objectContaining({ kind: 'corrupt', name: 'a.png', level: 0, block: leaf.toString(), error: 'BlockVerificationError' }))
    expect(doc.dropped).toBeUndefined()
    const text = await cli(['verify', root, '--repo', copy])
    expect(text.stdout).toContain('--drop-corrupt')
    // --drop-corrupt removes it: the next verify finds it missing (what mirror and get fetch again)
    const drop = await cli(['verify', root, '--repo', copy, '--drop-corrupt', '--json'])
    expect(drop.code).toBe(1)
    expect(JSON.parse(drop.stdout).dropped).toBe(1)
    const after = JSON.parse((await cli(['verify', root, '--repo', copy, '--json'])).stdout)
    expect(after.problems).toEqual([expect.objectContaining({ kind: 'missing', block: leaf.toString() })])
    // a corrupt structural block (a level file) too
    const copy2 = await copyRepo('corrupt-file')
    const fileNode = node.levels[0].file as CID
    await overwriteBlock(copy2, fileNode, Buffer.concat([await blockBytes(copy2, fileNode), Buffer.from([0])]))
    const res2 = await cli(['verify', root, '--repo', copy2, '--json'])
    expect(res2.code).toBe(1)
    expect(JSON.parse(res2.stdout).problems).toContainEqual(expect.objectContaining({ kind: 'corrupt', name: 'a.png', block: fileNode.toString() }))
  })

  it('reports a root that lies about its size (and get refuses it before decoding)', async () => {
    const { node } = await imageRootOf('b.png')
    // a root for a 641x480 image whose levels follow the ceil formula, over b.png's real 640x480 blocks
    const D = node.codestream.decompositions
    const lie = { ...node, width: node.width + 1, levels: node.levels.map((l: any, k: number) => ({ ...l, width: levelExtent(node.width + 1, 0, D, k) })) }
    const bytes = dagCbor.encode(lie)
    const cid = CID.createV1(dagCbor.code, await sha256.digest(bytes))
    const copy = await copyRepo('lying')
    const r = await Repo.open({ path: copy })
    try {
      await r.putBlocks([{ cid, bytes }])
      const result = await verifyRoot(r, cid)
      expect(result.ok).toBe(false)
      const levels = result.problems.filter(p => p.kind === 'format').map(p => p.level)
      expect(levels).toEqual(node.levels.map((_: any, k: number) => k))
      expect(result.problems[0].message).toMatch(/does not match its image root \(SIZ says 640x480 at 0,0, the root 641x480/)
    } finally { await r.close() }
    const res = await cli(['verify', cid.toString(), '--repo', copy])
    expect(res.code).toBe(1)
    expect(res.stdout).toContain(`FORMAT  ${cid.toString()}, level 0`)
    const get = await cli(['get', cid.toString(), '-o', join(dir, 'lie.png'), '--repo', copy])
    expect(get.code).toBe(1)
    expect(get.stderr).toMatch(/FormatError: .*does not match its image root/)
    await expect(readdir(dir)).resolves.not.toContain('lie.png')
  })

  it('a missing root or a non-root CID is a clear failure', async () => {
    const absent = 'bafyreigdmqpykrgxyaxtlafqpqhzrb7qy2rh75nldvfd4tucqmlmwbt6ty'
    const res = await cli(['verify', absent, '--repo', repo, '--json'])
    expect(res.code).toBe(1)
    expect(JSON.parse(res.stdout).problems[0]).toMatchObject({ kind: 'missing', block: absent })
  })
})
