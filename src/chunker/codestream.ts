/**
 * Parse an HTJ2K / JPEG 2000 codestream's markers and find where each
 * resolution level ends, refusing any codestream whose prefixes are not
 * resolution levels.
 *
 * A streamable codestream is: SOC, SIZ, other main-header segments (CAP, COD,
 * QCD, COM, TLM, ...), then exactly one tile-part per resolution of a single
 * tile, coarsest first (tile-parts divided at resolutions, resolution-major
 * progression, one quality layer), then EOC. The TLM segment gives every
 * tile-part length up front; the parser cross-checks it against each SOT.
 */
import { CodestreamError } from '../errors.js'
import {
  CAP, COC, COD, EOC, POC, PPM, PROGRESSIONS, SIZ, SOC, SOT, TLM, markerName
} from './markers.js'
import { ByteReader } from './reader.js'

/** One resolution level: the prefix [0, end) holds the main header and levels 0..level. */
export interface LevelRange {
  /** 0 = coarsest (r0). */
  level: number
  width: number
  height: number
  /** Bytes of the prefix holding main header + levels 0..level, EOC excluded. */
  end: number
}

/** What the chunker needs to know about a codestream. */
export interface CodestreamLayout {
  /** Image size on the reference grid: Xsiz - XOsiz, Ysiz - YOsiz. */
  width: number
  height: number
  /** SIZ image offsets (usually 0). */
  x0: number
  y0: number
  components: number
  /** Bits per sample as declared in SIZ (all components equal). */
  bitDepth: number
  signed: boolean
  /** True if SIZ's Rsiz declares Part 15 (HTJ2K) capabilities. */
  htj2k: boolean
  decompositions: number
  /** 'LRCP' | 'RLCP' | 'RPCL' (the only ones that can stream by resolution). */
  progression: string
  layers: number
  /** 1 = reversible 5/3 (lossless), 0 = irreversible 9/7. */
  transform: number
  mainHeaderLength: number
  levels: LevelRange[]
  /** Whole codestream including EOC. */
  length: number
}

/** JPEG 2000 allows at most 32 decomposition levels. */
export const MAX_DECOMPOSITIONS = 32

/** ceil(a / 2^r) for non-negative integers up to 2^32, without overflow. */
export function ceilShift (a: number, r: number): number {
  const d = 2 ** r
  return Math.ceil(a / d)
}

/** Width or height of level `level` of `decompositions`: ceil(end / 2^r) - ceil(origin / 2^r), r = D - level. */
export function levelExtent (end: number, origin: number, decompositions: number, level: number): number {
  const r = decompositions - level
  return ceilShift(end, r) - ceilShift(origin, r)
}

interface TlmEntry { tile: number | undefined, length: number }

/**
 * Parse `bytes` as a resolution-streamable codestream.
 * @param name used in error messages (a file name or CID).
 * @throws CodestreamError naming `name` if the codestream is malformed or cannot be streamed by resolution.
 */
export function parseCodestream (bytes: Uint8Array, name = 'codestream'): CodestreamLayout {
  const r = new ByteReader(bytes, name)
  const fail = (message: string): never => { throw new CodestreamError(`${name}: ${message}`) }

  if (r.u16(0, 'SOC') !== SOC) fail('does not start with SOC (FF4F): not a JPEG 2000 codestream')
  if (r.u16(2, 'SIZ') !== SIZ) fail('SIZ (FF51) does not follow SOC')

  // --- SIZ
  const lsiz = r.u16(4, 'SIZ length')
  const sizEnd = 4 + lsiz
  r.need(4, lsiz, 'SIZ segment')
  const rsiz = r.u16(6, 'Rsiz')
  const xsiz = r.u32(8, 'Xsiz')
  const ysiz = r.u32(12, 'Ysiz')
  const x0 = r.u32(16, 'XOsiz')
  const y0 = r.u32(20, 'YOsiz')
  const xtsiz = r.u32(24, 'XTsiz')
  const ytsiz = r.u32(28, 'YTsiz')
  const xt0 = r.u32(32, 'XTOsiz')
  const yt0 = r.u32(36, 'YTOsiz')
  const components = r.u16(40, 'Csiz')
  if (components < 1) fail('SIZ declares no component')
  if (lsiz !== 38 + 3 * components) fail(`SIZ length ${lsiz} does not match ${components} components`)
  if (xsiz <= x0 || ysiz <= y0) fail(`empty image: SIZ ${xsiz}x${ysiz} with offset ${x0},${y0}`)
  if (xtsiz === 0 || ytsiz === 0) fail('SIZ tile size is zero')
  if (xt0 > x0 || yt0 > y0) fail('SIZ tile origin lies after the image origin')
  const tiles = Math.ceil((xsiz - xt0) / xtsiz) * Math.ceil((ysiz - yt0) / ytsiz)
  if (tiles !== 1) fail(`has ${tiles} tiles: only single-tile codestreams can be streamed by resolution (a prefix of a tiled codestream is not a resolution level)`)
  let bitDepth = 0
  let signed = false
  for (let c = 0; c < components; c++) {
    const ssiz = r.u8(42 + 3 * c, 'Ssiz')
    const dx = r.u8(43 + 3 * c, 'XRsiz')
    const dy = r.u8(44 + 3 * c, 'YRsiz')
    const depth = (ssiz & 0x7f) + 1
    const sgn = (ssiz & 0x80) !== 0
    if (c === 0) { bitDepth = depth; signed = sgn }
    if (depth !== bitDepth || sgn !== signed) fail(`component ${c} has ${sgn ? 'signed' : 'unsigned'} ${depth} bits, component 0 ${signed ? 'signed' : 'unsigned'} ${bitDepth} bits: mixed components are not supported`)
    if (dx !== 1 || dy !== 1) fail(`component ${c} is subsampled (${dx}x${dy}): not supported`)
  }

  // --- main header: every segment up to the first SOT
  let decompositions = -1
  let progression = ''
  let layers = 0
  let transform = -1
  const tlmSegments = new Map<number, TlmEntry[]>()
  let p = sizEnd
  for (;;) {
    const marker = r.u16(p, 'main header marker')
    if ((marker & 0xff00) !== 0xff00) fail(`expected a marker at byte ${p}, found 0x${marker.toString(16)}: corrupt main header or segment length`)
    if (marker === SOT) break
    if (marker === EOC) fail('EOC before any tile-part: no image data')
    const len = r.u16(p + 2, `${markerName(marker)} length`)
    if (len < 2) fail(`${markerName(marker)} at byte ${p} has invalid length ${len}`)
    r.need(p + 2, len, `${markerName(marker)} segment at byte ${p}`)
    const body = p + 4
    switch (marker) {
      case COD: {
        if (len < 12) fail(`COD length ${len} is too short`)
        const order = r.u8(body + 1, 'COD progression')
        progression = PROGRESSIONS[order] ?? fail(`COD has unknown progression order ${order}`)
        layers = r.u16(body + 2, 'COD layers')
        decompositions = r.u8(body + 5, 'COD decompositions')
        transform = r.u8(body + 9, 'COD transform')
        break
      }
      case COC: {
        const cb = components < 257 ? 1 : 2
        const d = r.u8(body + cb + 1, 'COC decompositions')
        if (decompositions >= 0 && d !== decompositions) fail(`COC sets ${d} decomposition levels for one component, COD ${decompositions}: levels would not line up`)
        break
      }
      case POC: fail('has a POC (progression order change) marker: cannot be streamed by resolution'); break
      case PPM: fail('has a PPM (packed packet headers in main header) marker: not supported'); break
      case TLM: {
        const z = r.u8(body, 'Ztlm')
        const stlm = r.u8(body + 1, 'Stlm')
        const st = (stlm >> 4) & 3
        const sp = (stlm >> 6) & 1
        if (st === 3) fail('TLM has an invalid Stlm')
        const entrySize = st + (sp === 1 ? 4 : 2)
        const count = (len - 4) / entrySize
        if (!Number.isInteger(count)) fail(`TLM length ${len} is not a whole number of ${entrySize}-byte entries`)
        if (tlmSegments.has(z)) fail(`two TLM segments with index ${z}`)
        const entries: TlmEntry[] = []
        for (let i = 0, q = body + 2; i < count; i++, q += entrySize) {
          const tile = st === 0 ? undefined : st === 1 ? r.u8(q, 'Ttlm') : r.u16(q, 'Ttlm')
          const length = sp === 1 ? r.u32(q + st, 'Ptlm') : r.u16(q + st, 'Ptlm')
          entries.push({ tile, length })
        }
        tlmSegments.set(z, entries)
        break
      }
      case CAP: default:
        break // CAP, QCD, QCC, COM, RGN, CRG, PLM and unknown segments: skipped by their length
    }
    p += 2 + len
  }
  const mainHeaderLength = p
  if (decompositions < 0) fail('has no COD marker')
  if (decompositions > MAX_DECOMPOSITIONS) fail(`COD declares ${decompositions} decomposition levels (at most ${MAX_DECOMPOSITIONS})`)
  if (layers !== 1) fail(`has ${layers} quality layers: only single-layer codestreams can be streamed by resolution`)
  if (progression !== 'RPCL' && progression !== 'RLCP' && progression !== 'LRCP') {
    fail(`progression ${progression} is not resolution-major: encode with RPCL`)
  }
  if (tlmSegments.size === 0) fail('has no TLM marker: tile-part lengths must be in the main header (encode with TLM on)')
  const tlm: TlmEntry[] = []
  for (const z of [...tlmSegments.keys()].sort((a, b) => a - b)) tlm.push(...tlmSegments.get(z)!)

  const expected = decompositions + 1
  if (tlm.length !== expected) {
    fail(`TLM lists ${tlm.length} tile-parts, expected one per resolution (${expected}): encode with tile-parts divided at resolutions`)
  }

  // --- tile-parts, checked against TLM
  const levels: LevelRange[] = []
  for (let i = 0; i < expected; i++) {
    const marker = r.u16(p, `SOT of tile-part ${i}`)
    if (marker !== SOT) fail(`expected SOT of tile-part ${i} at byte ${p}, found ${markerName(marker)}: corrupt tile-part length`)
    const lsot = r.u16(p + 2, 'Lsot')
    if (lsot !== 10) fail(`SOT of tile-part ${i} has length ${lsot}, expected 10`)
    const isot = r.u16(p + 4, 'Isot')
    let psot = r.u32(p + 6, 'Psot')
    const tpsot = r.u8(p + 10, 'TPsot')
    const tnsot = r.u8(p + 11, 'TNsot')
    if (isot !== 0) fail(`tile-part ${i} belongs to tile ${isot}: expected the single tile 0`)
    if (tpsot !== i) fail(`tile-part at byte ${p} has index ${tpsot}, expected ${i}: tile-parts must come in order r0, r1, ...`)
    if (tnsot !== 0 && tnsot !== expected) fail(`SOT says the tile has ${tnsot} tile-parts, expected ${expected} (one per resolution)`)
    if (psot === 0) {
      // Psot = 0: the tile-part runs up to EOC (allowed only for the last one).
      if (i !== expected - 1) fail(`tile-part ${i} has Psot 0 but is not the last`)
      psot = bytes.byteLength - 2 - p
    }
    const entry = tlm[i]
    if (entry.tile !== undefined && entry.tile !== 0) fail(`TLM entry ${i} names tile ${entry.tile}`)
    if (entry.length !== psot) fail(`TLM says tile-part ${i} has ${entry.length} bytes, its SOT says ${psot}: corrupt length`)
    if (psot < 14) fail(`tile-part ${i} length ${psot} is too short`)
    const end = p + psot
    if (end > bytes.byteLength) fail(`truncated codestream: tile-part ${i} ends at byte ${end} but the codestream has ${bytes.byteLength} bytes`)
    levels.push({
      level: i,
      width: levelExtent(xsiz, x0, decompositions, i),
      height: levelExtent(ysiz, y0, decompositions, i),
      end
    })
    p = end
  }
  if (p + 2 > bytes.byteLength) fail(`truncated codestream: no EOC after the last tile-part (ends at byte ${p})`)
  const last = r.u16(p, 'EOC')
  if (last === SOT) fail('has more tile-parts than TLM lists')
  if (last !== EOC) fail(`expected EOC (FFD9) at byte ${p}, found 0x${last.toString(16)}`)
  if (p + 2 !== bytes.byteLength) fail(`has ${bytes.byteLength - p - 2} bytes after EOC`)

  return {
    width: xsiz - x0,
    height: ysiz - y0,
    x0,
    y0,
    components,
    bitDepth,
    signed,
    htj2k: (rsiz & 0x4000) !== 0,
    decompositions,
    progression,
    layers,
    transform,
    mainHeaderLength,
    levels,
    length: p + 2
  }
}
