import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { beforeAll, describe, expect, it } from 'vitest'
import { encodeHTJ2K } from '../../src/codec/index.js'
import { gradientImage, patternImage } from '../../src/examples/index.js'
import { MAX_BLOCK_BYTES, buildImageDag, decodeImageRoot, levelPlan, normaliseImageMeta, parseCodestream, rootKind } from '../../src/chunker/index.js'
import { FormatError } from '../../src/errors.js'
import type { ImageMeta, RasterImage } from '../../src/types.js'

const gradient12 = gradientImage
const pattern8 = patternImage

/** 512x512 signed 16-bit CT-like disc (for sizes). */
function ct (): RasterImage {
  const data = new Int16Array(512 * 512)
  for (let y = 0; y < 512; y++) {
    for (let x = 0; x < 512; x++) {
      const r = Math.hypot(x - 256, y - 256)
      data[y * 512 + x] = r > 240 ? -1024 : Math.round(40 + 300 * Math.sin(x / 9) * Math.cos(y / 13) + ((x * 31 + y * 17) % 23))
    }
  }
  return { width: 512, height: 512, components: 1, bitsStored: 16, signed: true, data }
}

async function cidOf (bytes: Uint8Array): Promise<CID> {
  return CID.createV1(dagCbor.code, await sha256.digest(bytes))
}

function formatError (fn: () => unknown): Error {
  try { fn() } catch (err) { return err as Error }
  throw new Error('expected a FormatError')
}

describe('image root', () => {
  let cs: Uint8Array
  let image: RasterImage
  const meta: ImageMeta = { sourceFormat: 'dicom', modality: 'CT', transferSyntax: '1.2.840.10008.1.2.1', photometric: 'MONOCHROME2', spacing: [0.7, 0.7], rescale: { slope: 1, intercept: -1024 }, bitsAllocated: 16, orientation: [1, 0, 0, 0, 1, 0], position: [-0, 10.5, -200] }
  beforeAll(async () => {
    image = ct()
    cs = await encodeHTJ2K(image, { decompositions: 5 })
  })

  it('round-trips through dag-cbor and validation', async () => {
    const dag = await buildImageDag(cs, image, meta, { name: 'ct.dcm' })
    const rootBlock = dag.blocks.find(b => b.cid.equals(dag.root))!
    expect(rootKind(rootBlock.bytes)).toBe('image')
    const root = decodeImageRoot(rootBlock.bytes, dag.root)
    const layout = parseCodestream(cs)
    expect(root).toMatchObject({ mist: 'image', version: 1, width: 512, height: 512, components: 1, bitsStored: 16, signed: true })
    expect(root.codestream).toMatchObject({ codec: 'htj2k', transform: '5/3', progression: 'RPCL', decompositions: 5, bitDepth: 16, signed: true, length: cs.length, mainHeader: layout.mainHeaderLength })
    expect(root.levels.map(l => [l.width, l.height, l.end])).toEqual(layout.levels.map(l => [l.width, l.height, l.end]))
    expect(dag.levels).toEqual(root.levels.map(l => ({ level: l.level, width: l.width, height: l.height, bytes: l.bytes })))
    // -0 normalised, all fields kept
    expect(root.meta).toEqual({ ...meta, position: [0, 10.5, -200] })
    expect(Object.is(root.meta.position![0], 0)).toBe(true)
    const plan = levelPlan(root, 2)
    expect(plan).toMatchObject({ width: 64, height: 64, decompositions: 5, reduce: 3, end: layout.levels[2].end })
    expect(plan.leaves.reduce((a, l) => a + l.size, 0)).toBeGreaterThanOrEqual(plan.end)
    expect(() => levelPlan(root, 6)).toThrow(FormatError)
    // figures for the report
    console.log(`512x512 CT: codestream ${cs.length} B, root block ${rootBlock.bytes.length} B, ${dag.blocks.length} blocks, level bytes ${root.levels.map(l => l.bytes).join('/')}, level ends ${root.levels.map(l => l.end).join('/')}`)
    const overhead = dag.blocks.filter(b => b.cid.code === 0x70).map(b => b.bytes.length)
    console.log(`level file nodes (bytes): ${overhead.join(', ')}`)
    expect(rootBlock.bytes.length).toBeLessThan(4096)
  })

  it('drops unknown and invalid metadata: no patient identifiers, no undefined/NaN', async () => {
    const dirty = { ...meta, PatientName: 'DOE^JOHN', patientId: '123', modality: 'X'.repeat(100), spacing: [NaN, 1], rescale: { slope: Infinity, intercept: 0 }, photometric: undefined }
    const dag = await buildImageDag(cs, image, dirty as unknown as ImageMeta)
    const rootBlock = dag.blocks.find(b => b.cid.equals(dag.root))!
    const text = Buffer.from(rootBlock.bytes).toString('latin1')
    expect(text).not.toContain('DOE')
    expect(text).not.toContain('patient')
    const root = decodeImageRoot(rootBlock.bytes, dag.root)
    expect(root.meta).toEqual({ sourceFormat: 'dicom', transferSyntax: meta.transferSyntax, bitsAllocated: 16, orientation: meta.orientation, position: [0, 10.5, -200] })
    expect(normaliseImageMeta({ sourceFormat: 'png', bitsAllocated: -0 })).toEqual({ sourceFormat: 'png' })
  })

  it('refuses garbage roots with FormatError', async () => {
    const dag = await buildImageDag(cs, image, meta)
    const good = dagCbor.decode(dag.blocks.find(b => b.cid.equals(dag.root))!.bytes) as any
    const mutate = async (f: (n: any) => void): Promise<Error> => {
      const n = structuredClone({ ...good, leaves: good.leaves.map((l: any) => ({ ...l })), levels: good.levels.map((l: any) => ({ ...l })), codestream: { ...good.codestream } })
      // structuredClone loses CID class: restore the links
      n.leaves.forEach((l: any, i: number) => { l.cid = good.leaves[i].cid })
      n.levels.forEach((l: any, i: number) => { l.file = good.levels[i].file })
      n.eoc = good.eoc
      f(n)
      const bytes = dagCbor.encode(n)
      return formatError(() => decodeImageRoot(bytes, CID.createV1(dagCbor.code, sha256.digest(bytes) as any)))
    }
    const cases: Array<[string, (n: any) => void, RegExp]> = [
      ['wrong mist', n => { n.mist = 'volume' }, /mist must be "image"/],
      ['future version', n => { n.version = 2 }, /version must be 1/],
      ['width as string', n => { n.width = '512' }, /width must be an integer/],
      ['missing height', n => { delete n.height }, /height must be an integer/],
      ['missing codestream', n => { delete n.codestream }, /codestream must be a map/],
      ['1000 levels', n => { n.levels = Array.from({ length: 1000 }, () => n.levels[0]) }, /levels has 1000 items/],
      ['level count vs decompositions', n => { n.levels.pop() }, /has 5 levels/],
      ['inconsistent ends', n => { n.levels[2].end = n.levels[1].end }, /levels\[2\]\.end must be an integer/],
      ['wrong width', n => { n.levels[1].width = 33 }, /ceil formula/],
      ['leaf count too big', n => { n.levels[1].leaves = 999 }, /levels\[1\]\.leaves/],
      ['bytes wrong', n => { n.levels[3].bytes += 1 }, /levels\[3\]\.bytes/],
      ['leaf sizes do not add up', n => { n.leaves[0].size += 1 }, /add up/],
      ['leaf over 1 MiB', n => { n.leaves[0].size = MAX_BLOCK_BYTES + 1 }, /leaves\[0\]\.size/],
      ['leaf not a CID', n => { n.leaves[0].cid = 'bafy' }, /must be a CID link/],
      ['file is raw', n => { n.levels[0].file = n.leaves[0].cid }, /codec 0x55, expected 0x70/],
      ['wrong EOC', n => { n.eoc = n.leaves[0].cid }, /not the EOC leaf/],
      ['meta missing', n => { delete n.meta }, /meta must be a map/],
      ['negative decompositions', n => { n.codestream.decompositions = -1 }, /decompositions/],
      ['unknown progression', n => { n.codestream.progression = 'PCRL' }, /progression must be/],
      ['bitsStored > bitDepth', n => { n.bitsStored = 17; n.codestream.bitDepth = 16 }, /bitsStored|exceeds/]
    ]
    for (const [what, f, re] of cases) {
      const err = await mutate(f)
      expect(err.name, what).toBe('FormatError')
      expect(err.message, what).toMatch(re)
    }
    // not dag-cbor, not a map, hash mismatch
    const junk = Uint8Array.of(0xff, 0x00, 0x13)
    expect(formatError(() => decodeImageRoot(junk, CID.createV1(dagCbor.code, sha256.digest(junk) as any))).name).toBe('FormatError')
    const list = dagCbor.encode([1, 2])
    expect(formatError(() => decodeImageRoot(list, await_(list))).message).toMatch(/node must be a map/)
    const rootBytes = dag.blocks.find(b => b.cid.equals(dag.root))!.bytes
    expect(formatError(() => decodeImageRoot(rootBytes, await_(Uint8Array.of(1)))).message).toMatch(/do not match the CID/)
    expect(() => rootKind(Uint8Array.of(0xa0))).toThrow(/no known `mist` field/)
  })
})

/** CID of bytes, synchronously (Node's sha256 is synchronous). */
function await_ (bytes: Uint8Array): CID {
  return CID.createV1(dagCbor.code, sha256.digest(bytes) as any)
}

describe('golden CIDs (same pixels and options -> same CIDs on any machine)', () => {
  // If one of these changes, the format changed: bump FORMAT_VERSION and update docs/FORMAT.md.
  it('300x200 uint16 12-bit gradient, D=5', async () => {
    const img = gradient12()
    const cs = await encodeHTJ2K(img, { decompositions: 5 })
    const dag = await buildImageDag(cs, img, { sourceFormat: 'synthetic' })
    expect({ root: dag.root.toString(), bytes: dag.levels.map(l => l.bytes) }).toEqual(GOLDEN.gradient)
  })
  it('64x64 uint8 pattern, D=3', async () => {
    const img = pattern8()
    const cs = await encodeHTJ2K(img, { decompositions: 3 })
    const dag = await buildImageDag(cs, img, { sourceFormat: 'synthetic', spacing: [0.5, 0.5] })
    expect({ root: dag.root.toString(), bytes: dag.levels.map(l => l.bytes) }).toEqual(GOLDEN.pattern)
  })
  it('300x200 gradient with groupBytes 0 (one leaf per level)', async () => {
    const img = gradient12()
    const cs = await encodeHTJ2K(img, { decompositions: 5 })
    const dag = await buildImageDag(cs, img, { sourceFormat: 'synthetic' }, { groupBytes: 0 })
    expect({ root: dag.root.toString(), bytes: dag.levels.map(l => l.bytes) }).toEqual(GOLDEN.gradientUngrouped)
  })
  it('root bytes depend only on content (cid of bytes)', async () => {
    const img = pattern8()
    const cs = await encodeHTJ2K(img, { decompositions: 3 })
    const a = await buildImageDag(cs, img, { sourceFormat: 'synthetic', spacing: [0.5, 0.5] })
    const b = await buildImageDag(cs.slice(), { ...img }, { spacing: [0.5, 0.5], sourceFormat: 'synthetic' })
    expect(a.root.equals(b.root)).toBe(true)
    expect((await cidOf(a.blocks.find(x => x.cid.equals(a.root))!.bytes)).equals(a.root)).toBe(true)
  })
})

const GOLDEN = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'golden.json'), 'utf8')).dags
