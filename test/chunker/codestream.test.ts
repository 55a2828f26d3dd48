import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { beforeAll, describe, expect, it } from 'vitest'
import { createRequire } from 'node:module'
import { encodeHTJ2K } from '../../src/codec/index.js'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import * as dagPb from '@ipld/dag-pb'
import { buildImageDag, decodeImageRoot, parseCodestream, levelExtent } from '../../src/chunker/index.js'
import { OPJ_DECOMPRESS, REAL_FIXTURES } from '../helpers/env.js'

/** A deterministic 16-bit pattern. */
function pattern (width: number, height: number, bits: number): Uint16Array {
  const data = new Uint16Array(width * height)
  const max = (1 << bits) - 1
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = ((x * 7 + y * 13) ^ (x * y)) & max
  return data
}

let wasm: any
const openjphFactory = createRequire(import.meta.url)('@cornerstonejs/codec-openjph')
/** Encode with the raw OpenJPH WASM, to make codestreams src/codec refuses to make (tiles, PCRL, no TLM). */
async function encodeRaw (width: number, height: number, opts: { progression?: number, tlm?: boolean, divide?: boolean, tile?: number, decompositions?: number }): Promise<Uint8Array> {
  wasm ??= await openjphFactory({ printErr: () => {} })
  const enc = new wasm.HTJ2KEncoder()
  const buf = enc.getDecodedBuffer({ width, height, bitsPerSample: 12, componentCount: 1, isSigned: false, isUsingColorTransform: false })
  new Uint16Array(buf.buffer, buf.byteOffset, width * height).set(pattern(width, height, 12))
  enc.setQuality(true, 0)
  enc.setProgressionOrder(opts.progression ?? 2)
  enc.setTilePartDivisionsAtResolutions(opts.divide ?? true)
  enc.setTLMMarker(opts.tlm ?? true)
  enc.setDecompositions(opts.decompositions ?? 3)
  if (opts.tile !== undefined) enc.setTileSize({ width: opts.tile, height: opts.tile })
  enc.encode()
  const out = enc.getEncodedBuffer().slice()
  enc.delete()
  return out
}

function errorOf (fn: () => unknown): Error {
  try { fn() } catch (err) { return err as Error }
  throw new Error('expected an error')
}

describe('parseCodestream on src/codec output', () => {
  const cases = [
    { w: 300, h: 200, bits: 12, d: 5 },
    { w: 64, h: 64, bits: 8, d: 1 },
    { w: 64, h: 64, bits: 8, d: 3 },
    { w: 257, h: 33, bits: 16, d: 4 },
    { w: 2, h: 1, bits: 8, d: 1 },
    { w: 1000, h: 17, bits: 10, d: 6 }
  ]
  for (const c of cases) {
    it(`${c.w}x${c.h} ${c.bits}-bit D=${c.d}`, async () => {
      const data = c.bits <= 8 ? Uint8Array.from(pattern(c.w, c.h, c.bits)) : pattern(c.w, c.h, c.bits)
      const cs = await encodeHTJ2K({ width: c.w, height: c.h, components: 1, bitsStored: c.bits, signed: false, data }, { decompositions: c.d })
      const layout = parseCodestream(cs, 'synthetic')
      expect(layout).toMatchObject({ width: c.w, height: c.h, components: 1, bitDepth: c.bits, signed: false, decompositions: c.d, progression: 'RPCL', layers: 1, length: cs.length, htj2k: true, transform: 1 })
      expect(layout.levels).toHaveLength(c.d + 1)
      expect(layout.levels[c.d].end).toBe(cs.length - 2)
      expect(layout.levels[c.d]).toMatchObject({ width: c.w, height: c.h })
      let prev = layout.mainHeaderLength
      for (const [k, l] of layout.levels.entries()) {
        expect(l.level).toBe(k)
        expect(l.width).toBe(Math.ceil(c.w / 2 ** (c.d - k)))
        expect(l.height).toBe(Math.ceil(c.h / 2 ** (c.d - k)))
        expect(l.end).toBeGreaterThan(prev)
        // every level ends right before the next SOT (FF90) or the EOC (FFD9)
        expect([cs[l.end], cs[l.end + 1]]).toEqual(k === c.d ? [0xff, 0xd9] : [0xff, 0x90])
        prev = l.end
      }
      expect([cs[layout.mainHeaderLength], cs[layout.mainHeaderLength + 1]]).toEqual([0xff, 0x90])
    })
  }

  it('D = 0 (one level; src/codec refuses it, the parser does not)', async () => {
    const cs = await encodeRaw(40, 30, { decompositions: 0 })
    const layout = parseCodestream(cs)
    expect(layout.levels).toEqual([{ level: 0, width: 40, height: 30, end: cs.length - 2 }])
  })

  it('handles SIZ image offsets with the ceil formula', () => {
    // ceil(X/2^r) - ceil(XO/2^r) (ISO 15444-1 B.5)
    expect(levelExtent(107, 3, 3, 0)).toBe(Math.ceil(107 / 8) - Math.ceil(3 / 8))
    expect(levelExtent(107, 3, 3, 0)).toBe(13)
    expect(levelExtent(5, 4, 3, 0)).toBe(0)
    expect(levelExtent(300, 0, 5, 5)).toBe(300)
    expect(levelExtent(300, 0, 5, 0)).toBe(10)
  })

  it('reads SIZ offsets from a codestream (patched XOsiz/YOsiz)', async () => {
    const cs = await encodeRaw(96, 80, { decompositions: 3 })
    // Shift the image origin and the reference grid end by the same amount: the tile still covers it.
    const patched = cs.slice()
    const dv = new DataView(patched.buffer)
    dv.setUint32(8, 96 + 5) // Xsiz
    dv.setUint32(12, 80 + 9) // Ysiz
    dv.setUint32(16, 5) // XOsiz
    dv.setUint32(20, 9) // YOsiz
    dv.setUint32(24, 200) // XTsiz: one tile covers the grid
    dv.setUint32(28, 200)
    const layout = parseCodestream(patched)
    expect(layout.width).toBe(96)
    expect(layout.x0).toBe(5)
    expect(layout.levels.map(l => [l.width, l.height])).toEqual([0, 1, 2, 3].map(k => {
      const r = 2 ** (3 - k)
      return [Math.ceil(101 / r) - Math.ceil(5 / r), Math.ceil(89 / r) - Math.ceil(9 / r)]
    }))
  })
})

/** The first fragment's codestream: from SOC+SIZ (FF4F FF51) to its EOC, trailing DICOM padding removed. */
function codestreamFromDicom (file: Uint8Array): Uint8Array | undefined {
  const start = Buffer.from(file).indexOf(Buffer.from([0xff, 0x4f, 0xff, 0x51]))
  if (start < 0) return undefined
  // Item before the fragment: (FFFE,E000) + 4-byte little-endian length.
  const dv = new DataView(file.buffer, file.byteOffset, file.byteLength)
  if (dv.getUint16(start - 8, true) !== 0xfffe || dv.getUint16(start - 6, true) !== 0xe000) return undefined
  let end = start + dv.getUint32(start - 4, true)
  while (end > start && !(file[end - 2] === 0xff && file[end - 1] === 0xd9)) end-- // even-length padding
  return file.slice(start, end)
}

describe.skipIf(REAL_FIXTURES === undefined)('parseCodestream on real HTJ2K DICOM files', () => {
  const dir = join(REAL_FIXTURES ?? '', 'github-DICOMHTJ2K', 'htj2k')
  const files = REAL_FIXTURES === undefined ? [] : readdirSync(dir).filter(f => f.endsWith('.dcm')).sort()
  it('found the fixtures', () => { expect(files.length).toBeGreaterThan(5) })
  for (const f of files) {
    it(f, () => {
      const cs = codestreamFromDicom(readFileSync(join(dir, f)))
      expect(cs).toBeDefined()
      let layout
      try {
        layout = parseCodestream(cs!, f)
      } catch (err) {
        // Refusals are allowed only with a CodestreamError that names the file and the reason.
        expect((err as Error).name).toBe('CodestreamError')
        expect((err as Error).message).toContain(f)
        return
      }
      expect(layout.length).toBe(cs!.length)
      expect(layout.levels).toHaveLength(layout.decompositions + 1)
      expect(layout.levels[layout.decompositions].end).toBe(cs!.length - 2)
      for (const l of layout.levels) expect(cs![l.end]).toBe(0xff)
    })
  }
  it('chunks them into level files that OpenJPEG decodes at the level size', async () => {
    const tmp = mkdtempSync(join(tmpdir(), 'mist-real-'))
    try {
      for (const f of files) {
        const cs = codestreamFromDicom(readFileSync(join(dir, f)))!
        const layout = parseCodestream(cs, f)
        const dag = await buildImageDag(cs, { bitsStored: layout.bitDepth, signed: layout.signed, components: layout.components }, { sourceFormat: 'dicom' }, { name: f })
        const store = new Map(dag.blocks.map(b => [b.cid.toString(), b.bytes]))
        const root = decodeImageRoot(store.get(dag.root.toString())!, dag.root)
        for (const lv of root.levels) {
          // a level file is one dag-pb node over raw leaves here (all are < 1024 leaves)
          const node = dagPb.decode(store.get(lv.file.toString())!)
          const bytes = Buffer.concat(node.Links.map(l => store.get(l.Hash.toString())!))
          expect(bytes.byteLength).toBe(lv.bytes)
          expect(Buffer.compare(bytes.subarray(0, lv.end), cs.subarray(0, lv.end))).toBe(0)
          if (OPJ_DECOMPRESS === undefined || (lv.level !== 0 && lv.level !== root.levels.length - 2)) continue
          const input = join(tmp, 'l.j2c')
          const output = join(tmp, root.components === 3 ? 'l.ppm' : 'l.pgm')
          writeFileSync(input, bytes)
          execFileSync(OPJ_DECOMPRESS, ['-i', input, '-o', output, '-r', String(root.codestream.decompositions - lv.level)], { stdio: 'pipe' })
          const header = readFileSync(output).subarray(0, 64).toString('latin1').split(/\s+/).filter(t => !t.startsWith('#') && !t.startsWith('OpenJPEG'))
          expect(header.slice(0, 3), `${f} level ${lv.level}`).toEqual([root.components === 3 ? 'P6' : 'P5', String(lv.width), String(lv.height)])
        }
      }
    } finally {
      rmSync(tmp, { recursive: true, force: true })
    }
  })

  it('accepts all of them (they are single-tile RPCL with TLM, divided at resolutions)', () => {
    const ok = files.filter(f => {
      try { parseCodestream(codestreamFromDicom(readFileSync(join(dir, f)))!, f); return true } catch { return false }
    })
    expect(ok).toEqual(files)
  })
})

describe('parseCodestream rejects what cannot stream by resolution', () => {
  let cs2tiles: Uint8Array
  const pcrl: Record<number, Uint8Array> = {}
  let noTlm: Uint8Array
  let undivided: Uint8Array
  let good: Uint8Array
  beforeAll(async () => {
    cs2tiles = await encodeRaw(128, 128, { tile: 64 })
    pcrl[3] = await encodeRaw(128, 128, { progression: 3 })
    pcrl[4] = await encodeRaw(128, 128, { progression: 4 })
    noTlm = await encodeRaw(128, 128, { tlm: false })
    undivided = await encodeRaw(128, 128, { divide: false })
    good = await encodeRaw(128, 128, {})
  })

  it('several tiles', async () => {
    const err = errorOf(() => parseCodestream(cs2tiles, 'tiled.j2c'))
    expect(err.name).toBe('CodestreamError')
    expect(err.message).toMatch(/tiled\.j2c: has 4 tiles/)
  })
  it('PCRL and CPRL', async () => {
    for (const [order, name] of [[3, 'PCRL'], [4, 'CPRL']] as const) {
      const err = errorOf(() => parseCodestream(pcrl[order], 'p.j2c'))
      expect(err.name).toBe('CodestreamError')
      expect(err.message).toContain(`progression ${name}`)
    }
  })
  it('no TLM', async () => {
    const err = errorOf(() => parseCodestream(noTlm, 'nt.j2c'))
    expect(err.name).toBe('CodestreamError')
    expect(err.message).toContain('no TLM')
  })
  it('tile-parts not divided at resolutions', async () => {
    const err = errorOf(() => parseCodestream(undivided, 'u.j2c'))
    expect(err.name).toBe('CodestreamError')
    expect(err.message).toMatch(/TLM lists 1 tile-parts, expected one per resolution \(4\)/)
  })
  function expectReject (bytes: Uint8Array, re: RegExp): void {
    const err = errorOf(() => parseCodestream(bytes, 'bad.j2c'))
    expect(err.name).toBe('CodestreamError')
    expect(err.message).toMatch(/^bad\.j2c: /)
    expect(err.message).toMatch(re)
  }

  it('accepts the unmodified codestream used below', () => {
    expect(parseCodestream(good).levels).toHaveLength(4)
  })
  it('truncated at every level boundary and mid-tile-part', () => {
    const layout = parseCodestream(good)
    for (const l of layout.levels) expectReject(good.subarray(0, l.end), /truncated|EOC/)
    expectReject(good.subarray(0, layout.levels[1].end + 10), /truncated/)
    expectReject(good.subarray(0, 50), /truncated/)
    expectReject(good.subarray(0, 3), /truncated/)
  })
  it('missing EOC / bytes after EOC', () => {
    const noEoc = good.slice()
    noEoc[noEoc.length - 1] = 0x00
    expectReject(noEoc, /expected EOC/)
    expectReject(Uint8Array.from([...good, 0]), /1 bytes after EOC/)
  })
  it('a corrupt Psot (SOT disagrees with TLM)', () => {
    const layout = parseCodestream(good)
    const bad = good.slice()
    const dv = new DataView(bad.buffer)
    const sot = layout.levels[1].end // SOT of tile-part 2
    dv.setUint32(sot + 6, dv.getUint32(sot + 6) + 1)
    expectReject(bad, /TLM says tile-part 2 has \d+ bytes, its SOT says \d+/)
  })
  it('a TLM length pointing beyond the end', () => {
    const layout = parseCodestream(good)
    const bad = good.slice()
    const dv = new DataView(bad.buffer)
    const last = layout.levels[2].end
    const grow = 100000
    dv.setUint32(last + 6, dv.getUint32(last + 6) + grow) // Psot
    // patch the matching TLM entry too, so only "beyond the end" is wrong
    const tlm = Buffer.from(bad).indexOf(Buffer.from([0xff, 0x55]))
    const entry = tlm + 6 + 3 * 6 + 2
    dv.setUint32(entry, dv.getUint32(entry) + grow)
    expectReject(bad, /truncated codestream: tile-part 3 ends at byte/)
  })
  it('a corrupt main-header segment length', () => {
    const bad = good.slice()
    const cod = Buffer.from(bad).indexOf(Buffer.from([0xff, 0x52]))
    new DataView(bad.buffer).setUint16(cod + 2, 13)
    expectReject(bad, /expected a marker at byte|truncated/)
  })
  it('tile-parts out of order', () => {
    const bad = good.slice()
    bad[parseCodestream(good).mainHeaderLength + 10] = 1 // TPsot of the first tile-part
    expectReject(bad, /index 1, expected 0/)
  })
  it('several quality layers', () => {
    const bad = good.slice()
    const cod = Buffer.from(bad).indexOf(Buffer.from([0xff, 0x52]))
    new DataView(bad.buffer).setUint16(cod + 6, 3)
    expectReject(bad, /3 quality layers/)
  })
  it('LRCP with one layer is resolution-major and accepted; not a J2K file is refused', () => {
    const lrcp = good.slice()
    const cod = Buffer.from(lrcp).indexOf(Buffer.from([0xff, 0x52]))
    lrcp[cod + 5] = 0
    expect(parseCodestream(lrcp).progression).toBe('LRCP')
    expectReject(Uint8Array.of(0x89, 0x50, 0x4e, 0x47), /not a JPEG 2000 codestream/)
  })
})
