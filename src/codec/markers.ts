/**
 * JPEG 2000 codestream marker parsing (ISO/IEC 15444-1 Annex A), by segment
 * lengths — never by scanning for byte pairs, which also occur inside segments.
 * Used to strip OpenJPH's COM segment and to check the resolution layout that
 * resolution streaming relies on.
 */
import { CodestreamError } from '../errors.js'

export const SOC = 0xff4f
export const SIZ = 0xff51
export const COD = 0xff52
export const TLM = 0xff55
export const COM = 0xff64
export const SOT = 0xff90
export const SOD = 0xff93
export const EOC = 0xffd9

/** One main-header marker segment. `offset` is where the marker starts; `length` counts the marker too. */
export interface Segment {
  marker: number
  offset: number
  length: number
}

/** The main header: its segments (after SOC) and the offset of the first SOT. */
export interface MainHeader {
  segments: Segment[]
  end: number
}

function u16 (b: Uint8Array, at: number): number {
  if (at + 2 > b.length) throw new CodestreamError(`codestream truncated: needed 2 bytes at offset ${at}, have ${b.length}`)
  return (b[at] << 8) | b[at + 1]
}

function u32 (b: Uint8Array, at: number): number {
  if (at + 4 > b.length) throw new CodestreamError(`codestream truncated: needed 4 bytes at offset ${at}, have ${b.length}`)
  return ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3])
}

function hex (marker: number): string {
  return marker.toString(16).toUpperCase()
}

/** Walk the main header segment by segment until the first SOT. */
export function parseMainHeader (bytes: Uint8Array): MainHeader {
  if (u16(bytes, 0) !== SOC) throw new CodestreamError('not a JPEG 2000 codestream: it does not start with SOC (FF4F)')
  const segments: Segment[] = []
  let at = 2
  for (;;) {
    const marker = u16(bytes, at)
    if (marker === SOT) return { segments, end: at }
    if ((marker & 0xff00) !== 0xff00 || marker < 0xff30) {
      throw new CodestreamError(`malformed main header: expected a marker at offset ${at}, found ${hex(marker)}`)
    }
    const length = u16(bytes, at + 2)
    if (length < 2 || at + 2 + length > bytes.length) {
      throw new CodestreamError(`malformed main header: segment ${hex(marker)} at offset ${at} has length ${length} past the end`)
    }
    segments.push({ marker, offset: at, length: 2 + length })
    at += 2 + length
  }
}

/** Copy of the codestream without its main-header COM segments (tile-parts are untouched). */
export function removeComments (bytes: Uint8Array): Uint8Array {
  const { segments } = parseMainHeader(bytes)
  const comments = segments.filter((s) => s.marker === COM)
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

/** Image and coding parameters read from SIZ and COD. */
export interface CodingParams {
  width: number
  height: number
  tiles: number
  components: number
  /** Progression order: 0 LRCP, 1 RLCP, 2 RPCL, 3 PCRL, 4 CPRL. */
  progression: number
  decompositions: number
  /** true for the reversible 5/3 wavelet. */
  reversible: boolean
}

/** One tile-part: where it starts, its length (Psot), tile index and tile-part index. */
export interface TilePart {
  offset: number
  length: number
  tile: number
  index: number
}

/** Full marker-level layout of a codestream. */
export interface Layout {
  header: MainHeader
  params: CodingParams
  /** Tile-part lengths listed by the TLM segments, or null without TLM. */
  tlm: number[] | null
  tileParts: TilePart[]
  /** Offset of the EOC marker. */
  eoc: number
}

function segment (header: MainHeader, marker: number): Segment {
  const s = header.segments.find((x) => x.marker === marker)
  if (s == null) throw new CodestreamError(`main header has no ${hex(marker)} segment`)
  return s
}

function readParams (bytes: Uint8Array, header: MainHeader): CodingParams {
  const siz = segment(header, SIZ).offset + 4
  const xsiz = u32(bytes, siz + 2)
  const ysiz = u32(bytes, siz + 6)
  const xo = u32(bytes, siz + 10)
  const yo = u32(bytes, siz + 14)
  const xt = u32(bytes, siz + 18)
  const yt = u32(bytes, siz + 22)
  const xto = u32(bytes, siz + 26)
  const yto = u32(bytes, siz + 30)
  const components = u16(bytes, siz + 34)
  const cod = segment(header, COD).offset + 4
  return {
    width: xsiz - xo,
    height: ysiz - yo,
    tiles: Math.ceil((xsiz - xto) / xt) * Math.ceil((ysiz - yto) / yt),
    components,
    progression: bytes[cod + 1],
    decompositions: bytes[cod + 5],
    reversible: bytes[cod + 9] === 1
  }
}

function readTlm (bytes: Uint8Array, header: MainHeader): number[] | null {
  const tlms = header.segments.filter((s) => s.marker === TLM)
  if (tlms.length === 0) return null
  const lengths: number[] = []
  for (const s of tlms) {
    const stlm = bytes[s.offset + 5]
    const st = (stlm >> 4) & 3
    const sp = (stlm >> 6) & 1 ? 4 : 2
    if (st === 3) throw new CodestreamError(`TLM segment at offset ${s.offset} has an invalid Stlm ${stlm}`)
    const end = s.offset + s.length
    for (let at = s.offset + 6 + st; at + sp <= end; at += st + sp) {
      lengths.push(sp === 4 ? u32(bytes, at) : u16(bytes, at))
    }
  }
  return lengths
}

/** Parse the main header, SIZ, COD, TLM and every tile-part header (following Psot). */
export function parseLayout (bytes: Uint8Array): Layout {
  const header = parseMainHeader(bytes)
  const params = readParams(bytes, header)
  const tlm = readTlm(bytes, header)
  const tileParts: TilePart[] = []
  let at = header.end
  while (at < bytes.length && u16(bytes, at) === SOT) {
    const lsot = u16(bytes, at + 2)
    if (lsot !== 10) throw new CodestreamError(`SOT at offset ${at} has length ${lsot}, expected 10`)
    const tile = u16(bytes, at + 4)
    let length = u32(bytes, at + 6)
    const index = bytes[at + 10]
    if (length === 0) length = bytes.length - 2 - at // last tile-part runs up to EOC
    if (length < 14 || at + length > bytes.length) {
      throw new CodestreamError(`tile-part at offset ${at} claims ${length} bytes, past the end of the ${bytes.length}-byte codestream`)
    }
    tileParts.push({ offset: at, length, tile, index })
    at += length
  }
  if (at + 2 !== bytes.length || u16(bytes, at) !== EOC) {
    throw new CodestreamError(`codestream does not end with EOC right after its last tile-part (offset ${at} of ${bytes.length})`)
  }
  return { header, params, tlm, tileParts, eoc: at }
}

/**
 * Throw CodestreamError unless the codestream has the layout resolution
 * streaming needs: reversible 5/3, RPCL, ONE tile, TLM listing every
 * tile-part, and exactly one tile-part per resolution (decompositions + 1),
 * coarsest first, then EOC.
 */
export function checkResolutionLayout (bytes: Uint8Array): Layout {
  const layout = parseLayout(bytes)
  const { params, tlm, tileParts } = layout
  const problems: string[] = []
  if (!params.reversible) problems.push('wavelet is not reversible 5/3')
  if (params.progression !== 2) problems.push(`progression order is ${params.progression}, not RPCL (2)`)
  if (params.tiles !== 1) problems.push(`${params.tiles} tiles, expected 1`)
  if (tileParts.length !== params.decompositions + 1) {
    problems.push(`${tileParts.length} tile-parts for ${params.decompositions + 1} resolutions`)
  }
  tileParts.forEach((tp, i) => {
    if (tp.tile !== 0 || tp.index !== i) problems.push(`tile-part ${i} is tile ${tp.tile} part ${tp.index}`)
  })
  if (tlm == null) problems.push('no TLM segment')
  else if (tlm.length !== tileParts.length || tlm.some((len, i) => len !== tileParts[i].length)) {
    problems.push(`TLM lengths [${tlm.join(', ')}] do not match tile-part lengths [${tileParts.map((t) => t.length).join(', ')}]`)
  }
  if (problems.length > 0) {
    throw new CodestreamError(`codestream cannot be streamed by resolution: ${problems.join('; ')}`)
  }
  return layout
}
