/**
 * The main header's segments (ISO/IEC 15444-1 A.5, A.6, A.7): SIZ, COD, COC,
 * QCD/QCC style, TLM, read at the offsets the standard gives. These readers
 * only read (bounded by the ByteReader); what a value may be is the consumer's
 * rule, except where a segment cannot be read at all without one (TLM).
 */
import { CodestreamError } from '../errors.js'
import { COM, SOC, SOT } from './markers.js'
import { ByteReader } from './reader.js'
import { walkSegments, type Segment } from './segments.js'

/** A consumer's refusal: throws its own error class with the message. */
export type Refuse = (message: string) => never

/** SIZ's fixed part (everything but the per-component triples). */
export interface Siz {
  /** Offset of the SIZ marker. */
  offset: number
  /** Lsiz: the segment's length field (38 + 3 * Csiz when well formed). */
  length: number
  /** Offset after the segment as Lsiz declares it. */
  end: number
  rsiz: number
  /** Reference grid extent and image origin. */
  xsiz: number
  ysiz: number
  x0: number
  y0: number
  /** Tile size and tile origin. */
  xt: number
  yt: number
  xt0: number
  yt0: number
  /** Csiz: number of components. */
  csiz: number
}

/** One component's Ssiz, XRsiz, YRsiz. */
export interface ComponentSiz {
  bits: number
  signed: boolean
  /** Subsampling (1 = none). */
  dx: number
  dy: number
}

/** Rsiz bit declaring Part 15 (HTJ2K) capabilities. */
export const RSIZ_HTJ2K = 0x4000

/** The fixed part of the SIZ segment whose marker is at `at` (2: right after SOC). */
export function readSiz (r: ByteReader, at = 2): Siz {
  const length = r.u16(at + 2, 'SIZ length')
  return {
    offset: at,
    length,
    end: at + 2 + length,
    rsiz: r.u16(at + 4, 'Rsiz'),
    xsiz: r.u32(at + 6, 'Xsiz'),
    ysiz: r.u32(at + 10, 'Ysiz'),
    x0: r.u32(at + 14, 'XOsiz'),
    y0: r.u32(at + 18, 'YOsiz'),
    xt: r.u32(at + 22, 'XTsiz'),
    yt: r.u32(at + 26, 'YTsiz'),
    xt0: r.u32(at + 30, 'XTOsiz'),
    yt0: r.u32(at + 34, 'YTOsiz'),
    csiz: r.u16(at + 38, 'Csiz')
  }
}

/** Ssiz, XRsiz and YRsiz of component `c` of `siz`. */
export function readComponent (r: ByteReader, siz: Siz, c: number): ComponentSiz {
  const at = siz.offset + 40 + 3 * c
  const ssiz = r.u8(at, 'Ssiz')
  return { bits: (ssiz & 0x7f) + 1, signed: (ssiz & 0x80) !== 0, dx: r.u8(at + 1, 'XRsiz'), dy: r.u8(at + 2, 'YRsiz') }
}

/** SPcod / SPcoc: the coding style shared by COD and COC. Code-block sizes are the coded exponents (size = 2^(value + 2)). */
export interface CodingStyle {
  decompositions: number
  xcb: number
  ycb: number
  /** Code-block style byte (0x40: HT code-blocks). */
  cbStyle: number
  /** 1 = reversible 5/3, 0 = irreversible 9/7, higher: Part 2 kernels. */
  wavelet: number
}

/** COD: Scod, SGcod (progression order, layers, multiple component transform) and SPcod. */
export interface Cod extends CodingStyle {
  scod: number
  /** Progression order code: an index of PROGRESSIONS when valid. */
  order: number
  layers: number
  mct: number
}

/** COC: its component, Scoc and SPcoc. */
export interface Coc extends CodingStyle {
  component: number
  scoc: number
}

/** Bytes of COD's Scod + SGcod + SPcod without precinct sizes: a COD segment's length is at least this + 2. */
export const COD_FIXED_BYTES = 10

/** SPcod / SPcoc at `at`. */
export function readCodingStyle (r: ByteReader, at: number): CodingStyle {
  return {
    decompositions: r.u8(at, 'decomposition levels'),
    xcb: r.u8(at + 1, 'code-block width'),
    ycb: r.u8(at + 2, 'code-block height'),
    cbStyle: r.u8(at + 3, 'code-block style'),
    wavelet: r.u8(at + 4, 'wavelet')
  }
}

/** The COD segment whose body (first byte after Lcod) is at `body`. */
export function readCod (r: ByteReader, body: number): Cod {
  return {
    scod: r.u8(body, 'Scod'),
    order: r.u8(body + 1, 'COD progression'),
    layers: r.u16(body + 2, 'COD layers'),
    mct: r.u8(body + 4, 'COD multiple component transform'),
    ...readCodingStyle(r, body + 5)
  }
}

/** Bytes of a component index in COC, QCC and RGN: 1 below 257 components, else 2. */
export function componentIndexBytes (csiz: number): number {
  return csiz < 257 ? 1 : 2
}

/** The component index of a COC, QCC or RGN segment whose body is at `body`. */
export function readComponentIndex (r: ByteReader, body: number, csiz: number, what: string): number {
  return componentIndexBytes(csiz) === 1 ? r.u8(body, what) : r.u16(body, what)
}

/** The COC segment whose body is at `body`, in a codestream of `csiz` components. */
export function readCoc (r: ByteReader, body: number, csiz: number): Coc {
  const component = readComponentIndex(r, body, csiz, 'Ccoc')
  const at = body + componentIndexBytes(csiz)
  return { component, scoc: r.u8(at, 'Scoc'), ...readCodingStyle(r, at + 1) }
}

/** Precinct sizes (exponents) of resolutions 0..decompositions, from the bytes at `at`; 15 x 15 when not given. */
export function readPrecincts (r: ByteReader, at: number, decompositions: number, given: boolean): { ppx: number[], ppy: number[] } {
  const ppx: number[] = []
  const ppy: number[] = []
  for (let level = 0; level <= decompositions; level++) {
    const v = given ? r.u8(at + level, 'precinct size') : 0xff
    ppx.push(v & 0x0f)
    ppy.push(v >> 4)
  }
  return { ppx, ppy }
}

/** QCD / QCC length (counting its 2-byte length field) that `style` (Sqcd & 0x1f) implies for D decomposition levels; -1 for an unknown style. */
export function quantizationLength (style: number, decompositions: number): number {
  const bands = 3 * decompositions + 1
  return style === 0 ? 3 + bands : style === 1 ? 5 : style === 2 ? 3 + 2 * bands : -1
}

/** One TLM entry: the tile (undefined when TLM omits it) and its tile-part's length Psot. */
export interface TlmEntry { tile: number | undefined, length: number }

/** The TLM segment `seg`: its index Ztlm and entries. Refuses an Stlm or length that cannot be read. */
export function readTlm (r: ByteReader, seg: Segment, refuse: Refuse): { index: number, entries: TlmEntry[] } {
  const index = r.u8(seg.body, 'Ztlm')
  const stlm = r.u8(seg.body + 1, 'Stlm')
  const st = (stlm >> 4) & 3
  const sp = (stlm >> 6) & 1
  if (st === 3) refuse('TLM has an invalid Stlm')
  const entrySize = st + (sp === 1 ? 4 : 2)
  const count = (seg.length - 6) / entrySize
  if (!Number.isInteger(count)) refuse(`TLM length ${seg.length - 2} is not a whole number of ${entrySize}-byte entries`)
  const entries: TlmEntry[] = []
  for (let i = 0, q = seg.body + 2; i < count; i++, q += entrySize) {
    const tile = st === 0 ? undefined : st === 1 ? r.u8(q, 'Ttlm') : r.u16(q, 'Ttlm')
    const length = sp === 1 ? r.u32(q + st, 'Ptlm') : r.u16(q + st, 'Ptlm')
    entries.push({ tile, length })
  }
  return { index, entries }
}

/** The main header: its segments (SIZ first, after SOC) and the offset of the first SOT. */
export interface MainHeader {
  segments: Segment[]
  end: number
}

/**
 * Walks the main header segment by segment until the first SOT, refusing only
 * what cannot be walked (CodestreamError): no SOC, a word that is not a marker
 * (0xFF30 and above), a segment length under 2 or past the end.
 */
export function parseMainHeader (bytes: Uint8Array): MainHeader {
  const hex = (marker: number): string => marker.toString(16).toUpperCase()
  const r = new ByteReader(bytes, 'codestream', (at, size, _what, length) => {
    throw new CodestreamError(`codestream truncated: needed ${size} bytes at offset ${at}, have ${length}`)
  })
  if (r.u16(0, 'SOC') !== SOC) throw new CodestreamError('not a JPEG 2000 codestream: it does not start with SOC (FF4F)')
  const segments: Segment[] = []
  const end = walkSegments(r, 2, {
    stop: SOT,
    isMarker: (word) => (word & 0xff00) === 0xff00 && word >= 0xff30,
    notMarker: (at, word) => { throw new CodestreamError(`malformed main header: expected a marker at offset ${at}, found ${hex(word)}`) },
    badLength: (marker, at, length) => { throw new CodestreamError(`malformed main header: segment ${hex(marker)} at offset ${at} has length ${length} past the end`) }
  }, (seg) => { segments.push(seg) })
  return { segments, end }
}

/** The first segment of `header` with `marker`, or undefined. */
export function findSegment (header: MainHeader, marker: number): Segment | undefined {
  return header.segments.find((s) => s.marker === marker)
}

/** Copy of the codestream without its main-header COM segments (tile-parts are untouched). */
export function removeComments (bytes: Uint8Array): Uint8Array {
  const comments = parseMainHeader(bytes).segments.filter((s) => s.marker === COM)
  if (comments.length === 0) return bytes
  const removed = comments.reduce((n, s) => n + s.length, 0)
  const out = new Uint8Array(bytes.length - removed)
  let from = 0
  let to = 0
  for (const s of comments) {
    out.set(bytes.subarray(from, s.offset), to)
    to += s.offset - from
    from = s.offset + s.length
  }
  out.set(bytes.subarray(from), to)
  return out
}
