/**
 * Known-answer reads of codestreams written by the project's encoder: the
 * SIZ, COD and TLM fields, the segment walk and its refusals, and the SOT walk
 * whose tile-part offsets the chunker's level boundaries must equal.
 */
import { beforeAll, describe, expect, it } from 'vitest'
import { parseCodestream } from '../../src/chunker/index.js'
import { encodeHTJ2K, synthesizeImage } from '../../src/codec/index.js'
import {
  ByteReader, CAP, COD, COM, EOC, PROGRESSIONS, QCD, RSIZ_HTJ2K, SIZ, SOD, SOT, TLM,
  findSegment, markerName, parseMainHeader, quantizationLength, readCod, readComponent, readSiz, readSot, readSotPart, readTlm,
  removeComments, walkSegments, walkTilePartHeader, type Segment
} from '../../src/j2k/index.js'

const refuse = (message: string): never => { throw new Error(message) }

let gray: Uint8Array // 64 x 48, 8-bit, D = 3
let rgb: Uint8Array // 33 x 17, 3 x 8-bit, D = 2
beforeAll(async () => {
  gray = await encodeHTJ2K(synthesizeImage(64, 48, 8, false, 1, 3), { decompositions: 3 })
  rgb = await encodeHTJ2K(synthesizeImage(33, 17, 8, false, 3, 3), { decompositions: 2 })
})

describe('main header of an encoded codestream', () => {
  it('SIZ: image and tile size, origin, components, HTJ2K capability', () => {
    const r = new ByteReader(gray, 'gray')
    const siz = readSiz(r)
    expect(siz).toMatchObject({ offset: 2, length: 41, end: 45, xsiz: 64, ysiz: 48, x0: 0, y0: 0, xt0: 0, yt0: 0, csiz: 1 })
    expect(siz.xt >= 64 && siz.yt >= 48).toBe(true) // one tile
    expect(siz.rsiz & RSIZ_HTJ2K).toBe(RSIZ_HTJ2K)
    expect(readComponent(r, siz, 0)).toEqual({ bits: 8, signed: false, dx: 1, dy: 1 })
    const siz3 = readSiz(new ByteReader(rgb, 'rgb'))
    expect([siz3.xsiz, siz3.ysiz, siz3.csiz, siz3.length]).toEqual([33, 17, 3, 38 + 3 * 3])
  })

  it('the segment walk: SIZ, CAP, COD, QCD, TLM up to the first SOT, no COM (the encoder removes it)', () => {
    const header = parseMainHeader(gray)
    expect(header.segments.map((s) => markerName(s.marker))).toEqual(['SIZ', 'CAP', 'COD', 'QCD', 'TLM'])
    expect(header.segments.map((s) => s.marker)).toEqual([SIZ, CAP, COD, QCD, TLM])
    for (const [i, s] of header.segments.entries()) {
      expect(s.end).toBe(s.offset + s.length)
      expect(s.body).toBe(s.offset + 4)
      if (i > 0) expect(s.offset).toBe(header.segments[i - 1].end)
    }
    expect(new ByteReader(gray).u16(header.end, 'SOT')).toBe(SOT)
    expect(header.end).toBe(parseCodestream(gray).mainHeaderLength)
    expect(findSegment(header, COM)).toBeUndefined()
    expect(removeComments(gray)).toBe(gray) // nothing to remove: the same bytes
  })

  it('COD: RPCL, one layer, D decompositions, reversible 5/3, HT code-blocks of 64 x 64; MCT on for RGB', () => {
    for (const [cs, D, mct] of [[gray, 3, 0], [rgb, 2, 1]] as const) {
      const cod = readCod(new ByteReader(cs), findSegment(parseMainHeader(cs), COD)!.body)
      expect(PROGRESSIONS[cod.order]).toBe('RPCL')
      expect(cod).toMatchObject({ layers: 1, decompositions: D, wavelet: 1, mct, xcb: 4, ycb: 4 })
      expect(cod.cbStyle & 0x40).toBe(0x40)
      const qcd = findSegment(parseMainHeader(cs), QCD)!
      expect(qcd.length - 2).toBe(quantizationLength(new ByteReader(cs).u8(qcd.body, 'Sqcd') & 0x1f, D))
    }
  })

  it('TLM and SOT: one tile-part per resolution, at the offsets the chunker cuts levels at', () => {
    const r = new ByteReader(gray, 'gray')
    const header = parseMainHeader(gray)
    const tlm = readTlm(r, findSegment(header, TLM)!, refuse)
    expect(tlm.index).toBe(0)
    expect(tlm.entries).toHaveLength(4)
    const layout = parseCodestream(gray)
    let p = header.end
    for (const [i, entry] of tlm.entries.entries()) {
      expect(r.u16(p, 'SOT')).toBe(SOT)
      const sot = readSot(r, p, (lsot) => refuse(`Lsot ${lsot}`))
      expect(sot).toEqual({ offset: p, tile: 0, length: entry.length })
      expect(readSotPart(r, sot)).toEqual({ index: i, count: 4 })
      const sod = walkTilePartHeader(r, sot, p + sot.length, { notMarker: () => refuse('not a marker'), badLength: () => refuse('bad length') }, () => refuse('a segment'))
      expect(sod).toBe(p + 12)
      expect(r.u16(sod, 'SOD')).toBe(SOD)
      p += sot.length
      expect(p).toBe(layout.levels[i].end)
    }
    expect(r.u16(p, 'EOC')).toBe(EOC)
    expect(p + 2).toBe(gray.length)
  })
})

describe('the segment walk refuses through the consumer hooks', () => {
  const walk = (bytes: Uint8Array, eoc = true): { end?: number, seen: Segment[], refused?: string } => {
    const seen: Segment[] = []
    try {
      const end = walkSegments(new ByteReader(bytes), 2, {
        stop: SOT,
        notMarker: (at, word) => refuse(`not a marker at ${at}: ${word.toString(16)}`),
        ...(eoc ? { eoc: (at: number) => refuse(`EOC at ${at}`) } : {}),
        badLength: (marker, at, length) => refuse(`${markerName(marker)} at ${at} length ${length}`)
      }, (s) => { seen.push(s) })
      return { end, seen }
    } catch (err) {
      return { seen, refused: (err as Error).message }
    }
  }
  const SOC_ = [0xff, 0x4f]
  const COM_ = [0xff, 0x64, 0x00, 0x04, 0xaa, 0xbb]

  it('walks by lengths (a marker-like pair inside a segment is not a marker) up to the stop marker', () => {
    const bytes = Uint8Array.from([...SOC_, 0xff, 0x64, 0x00, 0x04, 0xff, 0x90, ...COM_, 0xff, 0x90])
    expect(walk(bytes)).toMatchObject({ end: 14, seen: [{ marker: COM, offset: 2, length: 6 }, { marker: COM, offset: 8, length: 6 }] })
  })
  it('a segment length under 2 or past the end, a non-marker, an EOC', () => {
    expect(walk(Uint8Array.from([...SOC_, 0xff, 0x64, 0x00, 0x01, 0xff, 0x90])).refused).toBe('COM at 2 length 1')
    expect(walk(Uint8Array.from([...SOC_, 0xff, 0x64, 0x00, 0x09, 0xff, 0x90])).refused).toBe('COM at 2 length 9')
    expect(walk(Uint8Array.from([...SOC_, ...COM_, 0x12, 0x34, 0xff, 0x90])).refused).toBe('not a marker at 8: 1234')
    expect(walk(Uint8Array.from([...SOC_, 0xff, 0xd9, 0x00, 0x02, 0xff, 0x90])).refused).toBe('EOC at 2')
    // without an eoc hook EOC is walked like any segment (parseMainHeader's rule)
    expect(walk(Uint8Array.from([...SOC_, 0xff, 0xd9, 0x00, 0x02, 0xff, 0x90]), false)).toMatchObject({ end: 6, seen: [{ marker: EOC }] })
  })
  it('a codestream cut before the stop marker ends in the reader\'s CodestreamError', () => {
    expect(walk(Uint8Array.from([...SOC_, ...COM_, 0xff])).refused).toMatch(/truncated codestream: main header marker needs bytes 8\.\.10 but the codestream has 9 bytes/)
  })
})
