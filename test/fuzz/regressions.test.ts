/**
 * Cases the long fuzzing campaigns found outside the codec (the codec's own are in
 * codec-hostile.test.ts), rebuilt from the harness's small base DAG.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CodecPool, synthesizeImage } from '../../src/codec/index.js'
import { FormatError, InvalidInputError, MissingBlockError, UnsupportedInputError } from '../../src/errors.js'
import { encodePng } from '../../src/formats/index.js'
import { readPngBytes } from '../../src/formats/png/read.js'
import { getVolume, retrieve } from '../../src/retrieve/index.js'
import type { Block } from '../../src/types.js'
import { fixPngCrcs, makeBaseDag, type BaseDag } from '../helpers/fuzz-harness.js'
import { tempDir } from '../helpers/tmp.js'

let base: BaseDag
const pool = new CodecPool({ size: 1 })
beforeAll(async () => { base = await makeBaseDag() })
afterAll(async () => { await pool.close() })

async function cbor (value: unknown): Promise<Block> {
  const bytes = dagCbor.encode(value)
  return { cid: CID.createV1(dagCbor.code, await sha256.digest(bytes)), bytes }
}

function sourceOf (blocks: Block[]): { get: (cid: CID) => Promise<Uint8Array>, has: (cid: CID) => Promise<boolean> } {
  const map = new Map([...base.blocks, ...blocks].map((b) => [b.cid.toString(), b.bytes]))
  return {
    get: async (cid) => { const b = map.get(cid.toString()); if (b == null) throw new MissingBlockError(`no block ${cid}`); return b },
    has: async (cid) => map.has(cid.toString())
  }
}

describe('fuzz campaign regressions', () => {
  // seed 20251202, dag kind: a volume root listing 33 levels over slices that have 2 ended in a
  // RangeError from levelPlan (23 of 13,000 cases)
  it('a volume root that lists levels its slices lack ends in a FormatError', async () => {
    const levels = base.volume.node.levels as Array<{ level: number }>
    const vol = await cbor({ ...base.volume.node, levels: Array.from({ length: 33 }, (_, k) => ({ ...levels[Math.min(k, levels.length - 1)], level: k })) })
    const source = sourceOf([vol])
    for (const level of [undefined, 2, 32]) {
      const err = await getVolume(source, vol.cid, { pool, level }).then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(FormatError)
      // refused since issue 16 where each slice root is read (its levels must be the volume's), before any level is planned
      expect((err as Error).message).toMatch(/slice 0 has levels 12x8, 24x16 but its volume root says 12x8, 24x16, 24x16/)
    }
    // inside a dataset: the volume's entry fails with the same FormatError, the image entry is written
    const ds = structuredClone(dagCbor.decode(dagCbor.encode(base.dataset.node))) as any
    ds.entries.find((e: any) => e.name === 'vol.nii').root = vol.cid
    const dsBlock = await cbor(ds)
    const { dir, cleanup } = await tempDir()
    try {
      const r = await retrieve(sourceOf([vol, dsBlock]), dsBlock.cid, { out: dir, pool, concurrency: 2 })
      expect(r.failures.map((f) => [f.name, f.error.name])).toEqual([['vol.nii', 'FormatError']])
      expect(r.outputs.length).toBeGreaterThan(0)
    } finally {
      await cleanup()
    }
  })

  // png kind (CRCs fixed): a 300x200 PNG whose IHDR height was raised to 65534 decoded "fine"
  // (pngjs filled the missing rows with zeros: 336 MB from a 90 KB file); the outcome also changed
  // from run to run as such allocations failed or not
  it('a PNG whose header claims more (or fewer) rows than its image data holds is refused before decoding', () => {
    const png = encodePng(synthesizeImage(300, 200, 12, false, 1, 4))
    const withSize = (w: number, h: number): Uint8Array => {
      const b = new Uint8Array(png)
      new DataView(b.buffer).setUint32(16, w)
      new DataView(b.buffer).setUint32(20, h)
      return fixPngCrcs(b)
    }
    expect(readPngBytes('ok.png', withSize(300, 200)).image.height).toBe(200)
    for (const h of [65534, 201]) {
      expect(() => readPngBytes('tall.png', withSize(300, h))).toThrow(InvalidInputError)
    }
    expect(() => readPngBytes('tall.png', withSize(300, 65534))).toThrow(/cannot hold the 39385934 bytes of rows|holds 120200 bytes of rows, the header claims 39385934/)
    expect(() => readPngBytes('short.png', withSize(300, 100))).toThrow(/holds more than the 60100 bytes of rows/)
    // what pngjs would allocate (RGBA, 2 bytes at 16 bits) is bounded too: 65535 x 32767 8-bit gray is under
    // the 2 GiB payload limit but 8 GiB as RGBA
    const gray8 = encodePng(synthesizeImage(64, 48, 8, false, 1, 3))
    const huge = new Uint8Array(gray8)
    new DataView(huge.buffer).setUint32(16, 65535)
    new DataView(huge.buffer).setUint32(20, 32767)
    expect(() => readPngBytes('huge.png', fixPngCrcs(huge))).toThrow(UnsupportedInputError)
    expect(() => readPngBytes('huge.png', fixPngCrcs(huge))).toThrow(`needs ${65535 * 32767 * 4} bytes to decode (as RGBA)`)
  })
})
