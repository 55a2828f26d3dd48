/**
 * End to end on one machine: example files -> publish into a real on-disk repo ->
 * fetch each level -> pixels and files. Checks bit-exact full levels, every level
 * against the decode of the full codestream, the exact blocks read per level,
 * and that bad inputs fail alone with clear errors.
 */
import { execFile } from 'node:child_process'
import { readFile, rm, writeFile, mkdir, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeImageRoot, levelPlan, type ImageRoot } from '../../src/chunker/index.js'
import { decodeHTJ2K } from '../../src/codec/index.js'
import { encodePng, encodeNifti, readInput } from '../../src/formats/index.js'
import { radiographImage, sheppLoganVolume } from '../../src/examples/index.js'
import { publish, type PublishResult } from '../../src/publish/index.js'
import { Repo } from '../../src/repo/index.js'
import { planImageLevel, readLevelCodestream } from '../../src/level/index.js'
import { getImage, getVolume, retrieve } from '../../src/retrieve/index.js'
import type { RasterImage } from '../../src/types.js'
import { CountingSource } from '../helpers/counting-source.js'
import { OPJ_DECOMPRESS } from '../helpers/env.js'
import { tempDir } from '../helpers/tmp.js'

const run = promisify(execFile)

function sameSamples (a: RasterImage, b: RasterImage): boolean {
  return a.width === b.width && a.height === b.height && a.components === b.components &&
    a.data.constructor === b.data.constructor &&
    Buffer.compare(Buffer.from(a.data.buffer, a.data.byteOffset, a.data.byteLength), Buffer.from(b.data.buffer, b.data.byteOffset, b.data.byteLength)) === 0
}

let dir: string
let cleanup: () => Promise<void>
let repo: Repo
let published: PublishResult
const radiograph = radiographImage({ width: 900, height: 700 })
const phantom = sheppLoganVolume({ size: 160, slices: 6 })

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir())
  await mkdir(join(dir, 'in', 'sub'), { recursive: true })
  await writeFile(join(dir, 'in', 'radiograph.png'), encodePng(radiograph.image))
  await writeFile(join(dir, 'in', 'sub', 'phantom.nii'), encodeNifti(phantom.meta, phantom.slices))
  repo = await Repo.open({ path: join(dir, 'repo'), create: true, command: 'test' })
  published = await publish([join(dir, 'in')], { repo })
})

afterAll(async () => {
  await repo?.close()
  await cleanup?.()
})

describe('publish then get, on one machine', () => {
  it('publishes a directory as a dataset of an image and a volume, pinned', async () => {
    expect(published.failures).toEqual([])
    expect(published.items.map(i => [i.name, i.kind, i.images])).toEqual([['radiograph.png', 'image', 1], ['sub/phantom.nii', 'volume', 6]])
    expect(published.root).toBeDefined()
    expect(await repo.isPinned(published.root!)).toBe(true)
    const radiographLevels = published.items[0].levels
    expect(radiographLevels.map(l => [l.width, l.height])).toEqual([[57, 44], [113, 88], [225, 175], [450, 350], [900, 700]])
  })

  it('returns the source pixels bit for bit at the full level (image and volume)', async () => {
    const img = await getImage(repo, published.items[0].root, { level: 'full' })
    expect(sameSamples(img.image, radiograph.image)).toBe(true)
    const vol = await getVolume(repo, published.items[1].root, { level: 'full' })
    expect(vol.slices.length).toBe(6)
    vol.slices.forEach((s, z) => expect(sameSamples(s, phantom.slices[z])).toBe(true))
  })

  it('gives at every level exactly the decode of the full codestream at that reduction', async () => {
    const root = decodeImageRoot(await repo.get(published.items[0].root), published.items[0].root)
    const D = root.codestream.decompositions
    const full = await readLevelCodestream(repo, planImageLevel(published.items[0].root, root, D))
    for (const l of root.levels) {
      const got = await getImage(repo, published.items[0].root, { level: l.level })
      const expected = await decodeHTJ2K(full, { reduce: D - l.level })
      expect([got.image.width, got.image.height]).toEqual([l.width, l.height])
      expect(Buffer.compare(Buffer.from(got.image.data.buffer, got.image.data.byteOffset, got.image.data.byteLength), Buffer.from(expected.data.buffer, expected.data.byteOffset, expected.data.byteLength))).toBe(0)
    }
  })

  it('reads exactly the root and the leaves of levels 0..K, within 3 % of the prefix for sizeable levels', async () => {
    const cid = published.items[0].root
    const root: ImageRoot = decodeImageRoot(await repo.get(cid), cid)
    const rootBytes = (await repo.get(cid)).byteLength
    for (const l of root.levels) {
      const counting = new CountingSource(repo)
      await getImage(counting, cid, { level: l.level })
      const plan = levelPlan(root, l.level)
      const expected = [cid.toString(), ...plan.leaves.map(x => x.cid.toString())].sort()
      expect(counting.reads.map(r => r.cid).sort()).toEqual(expected)
      const leafBytes = plan.leaves.reduce((n, x) => n + x.size, 0)
      expect(counting.bytes).toBe(rootBytes + leafBytes)
      // what was read beyond the level's prefix: the root block, and grouped tiny levels
      if (plan.end >= 32 * 1024) expect(counting.bytes / plan.end).toBeLessThanOrEqual(1.03)
      else expect(counting.bytes - plan.end).toBeLessThanOrEqual(rootBytes + 4096)
    }
  })

  it('--size picks the coarsest level whose longer side reaches the size', async () => {
    expect((await getImage(repo, published.items[0].root, { size: 200 })).level).toBe(2)
    expect((await getImage(repo, published.items[0].root, { size: 225 })).level).toBe(2)
    expect((await getImage(repo, published.items[0].root, { size: 226 })).level).toBe(3)
    expect((await getImage(repo, published.items[0].root, { size: 5000 })).level).toBe(4)
  })

  it('writes PNG, NIfTI and J2C files for a whole dataset, and the volume NIfTI has the level geometry', async () => {
    const out = join(dir, 'out-dataset')
    const result = await retrieve(repo, published.root!, { level: 1, out })
    expect(result.failures).toEqual([])
    expect(result.outputs.map(o => o.paths[0].slice(out.length + 1))).toEqual(['radiograph.png', 'sub/phantom.nii'])
    const png = await readInput(join(out, 'radiograph.png'))
    expect(png.kind === 'image' && [png.image.width, png.image.height]).toEqual([113, 88])
    const nii = await readInput(join(out, 'sub', 'phantom.nii'))
    if (nii.kind !== 'volume') throw new Error('expected a volume')
    expect(nii.meta.dims).toEqual([80, 80, 6])
    expect(nii.meta.spacing[0]).toBeCloseTo(phantom.meta.spacing[0] * 2)
    expect(nii.meta.affine[0]).toBeCloseTo(phantom.meta.affine[0] * 2)
    expect(nii.meta.affine[3]).toBeCloseTo(phantom.meta.affine[3])
    const files = await readdir(out, { recursive: true })
    expect(files.some(f => f.endsWith('.tmp'))).toBe(false)
  })

  it.skipIf(OPJ_DECOMPRESS == null)('writes J2C files that OpenJPEG decodes to the same pixels', async () => {
    const cid = published.items[0].root
    for (const level of [0, 2, 4]) {
      const out = join(dir, `r-${level}.j2c`)
      await retrieve(repo, cid, { level, out, format: 'j2c' })
      const got = await getImage(repo, cid, { level })
      const raw = join(dir, `r-${level}.raw`)
      await run(OPJ_DECOMPRESS as string, ['-i', out, '-o', raw, '-r', String(4 - level)])
      const bytes = await readFile(raw)
      // OpenJPEG writes raw 16-bit samples little-endian for this unsigned 12-bit image
      const opj = new Uint16Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 2)
      expect(opj.length).toBe(got.image.width * got.image.height)
      expect(Buffer.compare(Buffer.from(opj.buffer, opj.byteOffset, opj.byteLength), Buffer.from(got.image.data.buffer, got.image.data.byteOffset, got.image.data.byteLength))).toBe(0)
    }
  })
})

describe('missing and corrupt blocks', () => {
  it('fails with MissingBlockError naming the level, and still serves the levels it holds', async () => {
    const { dir: d2, cleanup: c2 } = await tempDir()
    try {
      await writeFile(join(d2, 'r.png'), encodePng(radiograph.image))
      const repo2 = await Repo.open({ path: join(d2, 'repo'), create: true })
      try {
        const res = await publish([join(d2, 'r.png')], { repo: repo2 })
        const cid = res.root!
        const root = decodeImageRoot(await repo2.get(cid), cid)
        const last = root.leaves[root.leaves.length - 1].cid
        await repo2.blockstore.delete(last)
        await expect(getImage(repo2, cid, { level: 'full' })).rejects.toMatchObject({ name: 'MissingBlockError', message: expect.stringContaining('level 4 (900x700)') })
        expect((await getImage(repo2, cid, { level: 3 })).image.width).toBe(450)
        // a corrupt block is refused, not decoded
        const first = root.leaves[0].cid
        const good = await repo2.get(first)
        const bad = Uint8Array.from(good); bad[bad.length - 1] ^= 0xff
        await repo2.blockstore.put(first, bad)
        await expect(getImage(repo2, cid, { level: 0 })).rejects.toMatchObject({ name: 'BlockVerificationError' })
      } finally {
        await repo2.close()
      }
    } finally {
      await c2()
    }
  })
})

describe('bad inputs in a batch', () => {
  it('reports each bad file with its name and reason and still publishes the good ones', async () => {
    const { dir: d3, cleanup: c3 } = await tempDir()
    try {
      const png = encodePng(radiograph.image)
      await writeFile(join(d3, 'good.png'), png)
      await writeFile(join(d3, 'truncated.png'), png.subarray(0, 2000))
      await writeFile(join(d3, 'notes.txt'), 'not an image\n')
      await writeFile(join(d3, 'empty.dcm'), new Uint8Array(0))
      const nii = encodeNifti(phantom.meta, phantom.slices)
      await writeFile(join(d3, 'cut.nii'), nii.subarray(0, 5000))
      const repo3 = await Repo.open({ path: join(d3, 'repo'), create: true })
      try {
        const res = await publish([d3], { repo: repo3 })
        expect(res.items.map(i => i.name)).toEqual(['good.png'])
        expect(res.failures.map(f => f.path.slice(d3.length + 1)).sort()).toEqual(['cut.nii', 'empty.dcm', 'notes.txt', 'truncated.png'])
        for (const f of res.failures) {
          expect(f.error.message).toContain(f.path)
          expect(['InvalidInputError', 'UnsupportedInputError']).toContain(f.error.name)
        }
        expect(res.root).toBeDefined()
      } finally {
        await repo3.close()
      }
    } finally {
      await c3()
    }
  })
})

describe('repo', () => {
  it('refuses a second process while one holds the lock, and takes over a dead holder\'s lock', async () => {
    const { dir: d4, cleanup: c4 } = await tempDir()
    try {
      const path = join(d4, 'repo')
      const a = await Repo.open({ path, create: true, command: 'serve' })
      const child = await run(process.execPath, ['-e', `
        import('${new URL('../../dist/src/repo/index.js', import.meta.url).href}').then(async m => {
          try { await m.Repo.open({ path: ${JSON.stringify(path)} }); console.log('opened') } catch (e) { console.log(e.name + ': ' + e.message) }
        })`]).catch(e => e)
      expect(String(child.stdout)).toMatch(/RepoBusyError: .* is in use by `mist-p2p serve` \(pid \d+/)
      await a.close()
      // a lock left by a dead process is taken over
      await writeFile(join(path, 'repo.lock'), JSON.stringify({ pid: 999999, command: 'publish', since: 'then' }))
      const b = await Repo.open({ path })
      await b.close()
      await rm(path, { recursive: true })
      await expect(Repo.open({ path })).rejects.toMatchObject({ name: 'RepoError', message: expect.stringContaining('not a mist-p2p repo') })
    } finally {
      await c4()
    }
  })
})
