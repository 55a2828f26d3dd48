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
 * The fields are read with src/j2k; the rules above are the chunker's.
 */
import { CodestreamError } from '../errors.js'
import {
  ByteReader, COC, COD, COD_FIXED_BYTES, EOC, MAX_DECOMPOSITIONS, POC, PPM, PROGRESSIONS, RSIZ_HTJ2K, SIZ, SOC, SOT, TLM,
  levelExtent, markerName, readCoc, readCod, readComponent, readSiz, readSot, readSotPart, readTlm, tileGrid, walkSegments, type TlmEntry
} from '../j2k/index.js'

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
  r.need(4, lsiz, 'SIZ segment')
  const siz = readSiz(r)
  const { xsiz, ysiz, x0, y0, csiz: components } = siz
  if (components < 1) fail('SIZ declares no component')
  if (lsiz !== 38 + 3 * components) fail(`SIZ length ${lsiz} does not match ${components} components`)
  if (xsiz <= x0 || ysiz <= y0) fail(`empty image: SIZ ${xsiz}x${ysiz} with offset ${x0},${y0}`)
  if (siz.xt === 0 || siz.yt === 0) fail('SIZ tile size is zero')
  if (siz.xt0 > x0 || siz.yt0 > y0) fail('SIZ tile origin lies after the image origin')
  const grid = tileGrid(siz)
  const tiles = grid.x * grid.y
  if (tiles !== 1) fail(`has ${tiles} tiles: only single-tile codestreams can be streamed by resolution (a prefix of a tiled codestream is not a resolution level)`)
  let bitDepth = 0
  let signed = false
  for (let c = 0; c < components; c++) {
    const { bits: depth, signed: sgn, dx, dy } = readComponent(r, siz, c)
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
  let p = walkSegments(r, siz.end, {
    stop: SOT,
    notMarker: (at, word) => fail(`expected a marker at byte ${at}, found 0x${word.toString(16)}: corrupt main header or segment length`),
    eoc: () => fail('EOC before any tile-part: no image data'),
    badLength: (marker, at, len) => {
      if (len >= 2) r.need(at + 2, len, `${markerName(marker)} segment at byte ${at}`) // past the end: throws
      return fail(`${markerName(marker)} at byte ${at} has invalid length ${len}`)
    }
  }, (seg) => {
    switch (seg.marker) {
      case COD: {
        if (seg.length - 2 < COD_FIXED_BYTES + 2) fail(`COD length ${seg.length - 2} is too short`)
        const cod = readCod(r, seg.body)
        progression = PROGRESSIONS[cod.order] ?? fail(`COD has unknown progression order ${cod.order}`)
        layers = cod.layers
        decompositions = cod.decompositions
        transform = cod.wavelet
        break
      }
      case COC: {
        const d = readCoc(r, seg.body, components).decompositions
        if (decompositions >= 0 && d !== decompositions) fail(`COC sets ${d} decomposition levels for one component, COD ${decompositions}: levels would not line up`)
        break
      }
      case POC: fail('has a POC (progression order change) marker: cannot be streamed by resolution'); break
      case PPM: fail('has a PPM (packed packet headers in main header) marker: not supported'); break
      case TLM: {
        const { index, entries } = readTlm(r, seg, fail)
        if (tlmSegments.has(index)) fail(`two TLM segments with index ${index}`)
        tlmSegments.set(index, entries)
        break
      }
      default:
        break // CAP, QCD, QCC, COM, RGN, CRG, PLM and unknown segments: skipped by their length
    }
  })
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
    const sot = readSot(r, p, (lsot) => fail(`SOT of tile-part ${i} has length ${lsot}, expected 10`))
    const part = readSotPart(r, sot)
    let psot = sot.length
    if (sot.tile !== 0) fail(`tile-part ${i} belongs to tile ${sot.tile}: expected the single tile 0`)
    if (part.index !== i) fail(`tile-part at byte ${p} has index ${part.index}, expected ${i}: tile-parts must come in order r0, r1, ...`)
    if (part.count !== 0 && part.count !== expected) fail(`SOT says the tile has ${part.count} tile-parts, expected ${expected} (one per resolution)`)
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
    htj2k: (siz.rsiz & RSIZ_HTJ2K) !== 0,
    decompositions,
    progression,
    layers,
    transform,
    mainHeaderLength,
    levels,
    length: p + 2
  }
}
