/**
 * Checks a codestream's markers and parameters BEFORE OpenJPH sees it.
 *
 * OpenJPH (this WASM build) trusts its input: hostile values make it loop for
 * ever or allocate without bound, and it reports nothing. Found by fuzzing
 * (test/fuzz.test.ts) and measured here:
 * - a tile-part length Psot near 2^32 wraps OpenJPH's 32-bit file offset: it
 *   seeks back into the codestream and re-reads the same tile-parts for ever;
 * - a subsampled component (XRsiz or YRsiz > 1) makes the decoder pull more
 *   lines than the component has, for ever;
 * - tiny precincts (2x2) cost ~160 bytes each for every resolution, whatever
 *   the reduce: a 4096x4096 image took 6 s and 1 GB;
 * - many small tiles cost ~80 KB each (17x17 tiles of a 4096x4096 image trapped
 *   after 700 MB);
 * - SIZ can claim any size up to 2^32 x 2^32, and the decoder allocates the
 *   whole raster before reading a single sample.
 * So the codestream must be well formed segment by segment, exactly as OpenJPH
 * will walk it (it searches markers byte by byte, so an unknown segment or a
 * wrong length would make it read something else than what was checked here),
 * every tile-part must lie inside the bytes present, and the work it implies
 * must stay under the limits below. Every refusal is a CodecError that says
 * what is wrong.
 */
import { CodecError } from '../errors.js'
import { MAX_BITS, MAX_DECODED_BYTES, MAX_SIDE } from './validate.js'

export { MAX_DECODED_BYTES }
/** Most tiles a codestream may have (mist-p2p writes one; OpenJPH spends ~80 KB per tile). */
export const MAX_TILES = 256
/** Most precincts, summed over tiles, components and every resolution (mist-p2p writes one per resolution). */
export const MAX_PRECINCTS = 65536
/** Most code-blocks, summed over tiles, components, resolutions and subbands (8192x8192 in 16x16 blocks is 350k). */
export const MAX_CODEBLOCKS = 1 << 20

const SOC = 0xff4f
const SIZ = 0xff51
const CAP = 0xff50
const COD = 0xff52
const COC = 0xff53
const TLM = 0xff55
const PLM = 0xff57
const PLT = 0xff58
const QCD = 0xff5c
const QCC = 0xff5d
const RGN = 0xff5e
const POC = 0xff5f
const PPM = 0xff60
const PPT = 0xff61
const CRG = 0xff63
const COM = 0xff64
const DFS = 0xff72
const NLT = 0xff76
const ATK = 0xff79
const SOT = 0xff90
const SOD = 0xff93
const EOC = 0xffd9

const NAMES: Record<number, string> = {
  [SOC]: 'SOC', [SIZ]: 'SIZ', [CAP]: 'CAP', [COD]: 'COD', [COC]: 'COC', [TLM]: 'TLM', [PLM]: 'PLM', [PLT]: 'PLT',
  [QCD]: 'QCD', [QCC]: 'QCC', [RGN]: 'RGN', [POC]: 'POC', [PPM]: 'PPM', [PPT]: 'PPT', [CRG]: 'CRG', [COM]: 'COM', [DFS]: 'DFS',
  [NLT]: 'NLT', [ATK]: 'ATK', [SOT]: 'SOT', [SOD]: 'SOD', [EOC]: 'EOC'
}

function name (marker: number): string {
  return NAMES[marker] ?? `0x${marker.toString(16).toUpperCase().padStart(4, '0')}`
}

/** Main-header segments OpenJPH skips by their length without using them: harmless. */
const SKIPPED_MAIN = new Set([TLM, PLM, CRG, COM])
/** Segments allowed in a tile-part header before SOD (OpenJPH skips them by length). */
const SKIPPED_TILE = new Set([PLT, COM])
/** Segments OpenJPH knows but ignores or does not implement: decoding would silently give wrong pixels. */
const UNSUPPORTED: Record<number, string> = {
  [RGN]: 'region of interest (RGN)',
  [POC]: 'progression order change (POC)',
  [PPM]: 'packed packet headers (PPM)',
  [PPT]: 'packed packet headers (PPT)',
  [DFS]: 'Part 2 downsampling factor styles (DFS)',
  [ATK]: 'Part 2 arbitrary wavelet kernels (ATK)',
  [NLT]: 'Part 2 non-linearity (NLT)',
  [COD]: 'a COD in a tile-part header (OpenJPH ignores it)',
  [COC]: 'a COC in a tile-part header (OpenJPH ignores it)',
  [QCD]: 'a QCD in a tile-part header (OpenJPH ignores it)',
  [QCC]: 'a QCC in a tile-part header (OpenJPH ignores it)'
}

/** Coding parameters of one component (COD, or a COC that overrides it). */
interface Coding {
  decompositions: number
  /** log2 of the code-block width and height. */
  xcb: number
  ycb: number
  /** log2 of the precinct width and height, per resolution 0..D. */
  ppx: number[]
  ppy: number[]
}

/** What the header says, once checked. */
export interface CheckedHeader {
  width: number
  height: number
  components: number
  bitsPerSample: number
  signed: boolean
  decompositions: number
  tiles: number
  tileParts: number
  precincts: number
  codeblocks: number
  /** Bytes of the decoded raster at the requested reduce. */
  decodedBytes: number
}

const fail = (message: string): never => {
  throw new CodecError(`cannot decode: invalid HTJ2K codestream header: ${message}`)
}

const unsupported = (message: string): never => {
  throw new CodecError(`cannot decode: ${message}`)
}

/** ceil(a / 2^r) for 0 <= a < 2^53. */
function ceilShift (a: number, r: number): number {
  return Math.ceil(a / 2 ** r)
}

/**
 * Check `bytes` (a codestream, or a prefix of whole tile-parts with or without EOC)
 * for a decode at `reduce`. Throws CodecError, or returns what the header says.
 */
export function checkCodestream (bytes: Uint8Array, reduce: number): CheckedHeader {
  const n = bytes.length
  const u8 = (at: number, what: string): number => {
    if (at >= n) fail(`truncated in ${what} (byte ${at} of ${n})`)
    return bytes[at]
  }
  const u16 = (at: number, what: string): number => (u8(at, what) << 8) | u8(at + 1, what)
  const u32 = (at: number, what: string): number => u16(at, what) * 65536 + u16(at + 2, what)

  if (n < 2 || u16(0, 'SOC') !== SOC) fail('it does not start with SOC (FF4F)')
  if (u16(2, 'SIZ') !== SIZ) fail('SIZ (FF51) does not follow SOC')

  // ---------------------------------------------------------------- SIZ
  const lsiz = u16(4, 'SIZ length')
  const csiz = u16(40, 'Csiz')
  if (csiz < 1 || lsiz !== 38 + 3 * csiz) fail(`SIZ length ${lsiz} does not match its ${csiz} components`)
  if (4 + lsiz > n) fail(`SIZ runs past the end (${n} bytes)`)
  const xsiz = u32(8, 'Xsiz')
  const ysiz = u32(12, 'Ysiz')
  const x0 = u32(16, 'XOsiz')
  const y0 = u32(20, 'YOsiz')
  const xt = u32(24, 'XTsiz')
  const yt = u32(28, 'YTsiz')
  const xt0 = u32(32, 'XTOsiz')
  const yt0 = u32(36, 'YTOsiz')
  if (!(xsiz > x0 && ysiz > y0)) fail(`empty image: SIZ extent ${xsiz}x${ysiz} with origin ${x0},${y0}`)
  const width = xsiz - x0
  const height = ysiz - y0
  if (width > MAX_SIDE || height > MAX_SIDE) unsupported(`the image is ${width}x${height}: at most ${MAX_SIDE} per side`)
  if (xsiz >= 2 ** 31 || ysiz >= 2 ** 31) unsupported(`SIZ extent ${xsiz}x${ysiz} is beyond 2^31 (OpenJPH computes positions in 32 bits)`)
  if (xt < 1 || yt < 1) fail(`tile size ${xt}x${yt}`)
  if (xt0 > x0 || yt0 > y0 || xt0 + xt <= x0 || yt0 + yt <= y0) fail(`the first tile (origin ${xt0},${yt0}, size ${xt}x${yt}) does not contain the image origin ${x0},${y0}`)
  const tilesX = Math.ceil((xsiz - xt0) / xt)
  const tilesY = Math.ceil((ysiz - yt0) / yt)
  if (xt0 + tilesX * xt >= 2 ** 32 || yt0 + tilesY * yt >= 2 ** 32) unsupported(`tiles of ${xt}x${yt} from ${xt0},${yt0} end beyond 2^32 (OpenJPH computes positions in 32 bits)`)
  const tiles = tilesX * tilesY
  if (tiles > MAX_TILES) unsupported(`the codestream has ${tilesX}x${tilesY} tiles of ${xt}x${yt}: at most ${MAX_TILES} tiles`)
  let bitsPerSample = 0
  let signed = false
  for (let c = 0; c < csiz; c++) {
    const ssiz = u8(42 + 3 * c, 'Ssiz')
    const dx = u8(43 + 3 * c, 'XRsiz')
    const dy = u8(44 + 3 * c, 'YRsiz')
    const bits = (ssiz & 0x7f) + 1
    const sgn = (ssiz & 0x80) !== 0
    if (c === 0) { bitsPerSample = bits; signed = sgn }
    if (bits !== bitsPerSample || sgn !== signed) unsupported(`component ${c} has ${sgn ? 'signed' : 'unsigned'} ${bits} bits and component 0 ${signed ? 'signed' : 'unsigned'} ${bitsPerSample}: mixed components are not supported`)
    if (dx !== 1 || dy !== 1) unsupported(`component ${c} is subsampled ${dx}x${dy}: subsampled components are not supported (OpenJPH's decoder loops on them)`)
  }
  if (bitsPerSample > MAX_BITS) unsupported(`${bitsPerSample}-bit samples: this release handles at most ${MAX_BITS} bits per sample`)
  if (csiz !== 1 && csiz !== 3) unsupported(`the codestream has ${csiz} components: only 1 or 3 are supported`)
  if (csiz > 1 && bitsPerSample > 8) unsupported(`${csiz}-component ${bitsPerSample}-bit codestream: multi-component images must be at most 8 bits per sample in this release`)
  if (signed && bitsPerSample <= 8) unsupported(`signed ${bitsPerSample}-bit codestream: the WASM codec mishandles signed samples of 8 bits or less (mist-p2p stores them as signed 9-bit)`)

  // ---------------------------------------------------------------- main header
  let cod: Coding | undefined
  let codAt = -1
  const cocs = new Map<number, Coding>()
  const qcds: Array<{ at: number, length: number, comp: number }> = []
  let p = 4 + lsiz
  for (;;) {
    const marker = u16(p, 'main header marker')
    if (marker === SOT) break
    if (marker === EOC) fail('EOC before any tile-part')
    if ((marker & 0xff00) !== 0xff00) fail(`expected a marker at byte ${p}, found 0x${marker.toString(16)}`)
    const length = u16(p + 2, `${name(marker)} length`)
    if (length < 2 || p + 2 + length > n) fail(`${name(marker)} at byte ${p} has length ${length}, past the end (${n} bytes)`)
    const body = p + 4
    const end = p + 2 + length
    if (marker === COD) {
      if (cod != null) fail('two COD segments')
      cod = readCoding(bytes, body, end, 'COD', true)
      codAt = p
    } else if (marker === COC) {
      const comp = csiz < 257 ? u8(body, 'Ccoc') : u16(body, 'Ccoc')
      if (comp >= csiz) fail(`COC for component ${comp} of ${csiz}`)
      if (cocs.has(comp)) fail(`two COC segments for component ${comp}`)
      cocs.set(comp, readCoding(bytes, body + (csiz < 257 ? 1 : 2), end, 'COC', false))
    } else if (marker === QCD) {
      if (qcds.some((q) => q.comp < 0)) fail('two QCD segments')
      qcds.push({ at: body, length, comp: -1 })
    } else if (marker === QCC) {
      const comp = csiz < 257 ? u8(body, 'Cqcc') : u16(body, 'Cqcc')
      if (comp >= csiz) fail(`QCC for component ${comp} of ${csiz}`)
      if (qcds.some((q) => q.comp === comp)) fail(`two QCC segments for component ${comp}`)
      qcds.push({ at: body + (csiz < 257 ? 1 : 2), length: length - (csiz < 257 ? 1 : 2), comp })
    } else if (marker === CAP) {
      const pcap = u32(body, 'Pcap')
      if (pcap !== 0x00020000) fail(`CAP declares capabilities 0x${pcap.toString(16)}: only Part 15 (HTJ2K) is supported`)
      if (length !== 8) fail(`CAP length ${length}, expected 8`)
    } else if (UNSUPPORTED[marker] != null && marker !== COD && marker !== COC && marker !== QCD && marker !== QCC) {
      unsupported(`the codestream uses ${UNSUPPORTED[marker]}, which OpenJPH does not decode`)
    } else if (!SKIPPED_MAIN.has(marker)) {
      fail(`unknown marker ${name(marker)} at byte ${p} in the main header`)
    }
    p = end
  }
  if (cod == null) fail('no COD segment')
  const main = cod as Coding
  if (qcds.every((q) => q.comp >= 0)) fail('no QCD segment')
  const D = main.decompositions
  for (const [comp, c] of cocs) {
    if (c.decompositions !== D) unsupported(`COC gives component ${comp} ${c.decompositions} decomposition levels, COD ${D}: per-component levels are not supported`)
  }
  for (const q of qcds) checkQuantization(bytes, q.at, q.length, D, q.comp)
  const layers = u16(codAt + 6, 'COD layers')
  if (layers !== 1) unsupported(`the codestream has ${layers} quality layers: OpenJPH decodes single-layer codestreams only`)
  const mct = u8(codAt + 8, 'COD multiple component transform')
  if (mct > 1 || (mct === 1 && csiz < 3)) fail(`COD multiple component transform ${mct} with ${csiz} component(s)`)
  if (reduce > D) unsupported(`reduce ${reduce}: the codestream has only ${D} decomposition levels (reduce 0..${D})`)

  // ---------------------------------------------------------------- limits
  // the size OpenJPH's wrapper allocates and pulls lines for: ceil(width / 2^reduce)
  const rw = ceilShift(width, reduce)
  const rh = ceilShift(height, reduce)
  // the level's real size: with an image origin it can be smaller, and pulling lines a level
  // does not have makes OpenJPH loop for ever
  const realW = ceilShift(xsiz, reduce) - ceilShift(x0, reduce)
  const realH = ceilShift(ysiz, reduce) - ceilShift(y0, reduce)
  if (realW !== rw || realH !== rh) {
    unsupported(`at reduce ${reduce} the image origin ${x0},${y0} makes the level ${realW}x${realH}, not the ${rw}x${rh} the decoder fills: decode at another reduce (mist-p2p writes origin 0,0)`)
  }
  const decodedBytes = rw * rh * csiz * (bitsPerSample <= 8 ? 1 : 2)
  if (decodedBytes > MAX_DECODED_BYTES) {
    unsupported(`the header claims ${rw}x${rh}x${csiz} samples at reduce ${reduce} (${decodedBytes} bytes), more than the ${MAX_DECODED_BYTES}-byte limit; decode a coarser level (a larger reduce)`)
  }
  let precincts = 0
  let codeblocks = 0
  for (let ty = 0; ty < tilesY; ty++) {
    const ty0 = Math.max(yt0 + ty * yt, y0)
    const ty1 = Math.min(yt0 + (ty + 1) * yt, ysiz)
    for (let tx = 0; tx < tilesX; tx++) {
      const tx0 = Math.max(xt0 + tx * xt, x0)
      const tx1 = Math.min(xt0 + (tx + 1) * xt, xsiz)
      for (let c = 0; c < csiz; c++) {
        const k = cocs.get(c) ?? main
        for (let r = 0; r <= D; r++) {
          const s = D - r
          const rx0 = ceilShift(tx0, s); const rx1 = ceilShift(tx1, s)
          const ry0 = ceilShift(ty0, s); const ry1 = ceilShift(ty1, s)
          if (rx1 <= rx0 || ry1 <= ry0) continue
          const px = k.ppx[r]; const py = k.ppy[r]
          precincts += (ceilShift(rx1, px) - Math.floor(rx0 / 2 ** px)) * (ceilShift(ry1, py) - Math.floor(ry0 / 2 ** py))
          // code-blocks: within a precinct partition, at most min(xcb, PPx - (r > 0 ? 1 : 0))
          const cbx = Math.min(k.xcb, r > 0 ? px - 1 : px)
          const cby = Math.min(k.ycb, r > 0 ? py - 1 : py)
          const bands = r === 0 ? [[rx0, rx1, ry0, ry1]] : subbands(tx0, tx1, ty0, ty1, s + 1)
          for (const [bx0, bx1, by0, by1] of bands) {
            if (bx1 <= bx0 || by1 <= by0) continue
            codeblocks += (ceilShift(bx1, cbx) - Math.floor(bx0 / 2 ** cbx)) * (ceilShift(by1, cby) - Math.floor(by0 / 2 ** cby))
          }
        }
        if (precincts > MAX_PRECINCTS) unsupported(`the codestream's precinct sizes give more than ${MAX_PRECINCTS} precincts (OpenJPH allocates every one of them whatever the reduce)`)
        if (codeblocks > MAX_CODEBLOCKS) unsupported(`the codestream's code-block sizes give more than ${MAX_CODEBLOCKS} code-blocks`)
      }
    }
  }

  // ---------------------------------------------------------------- tile-parts
  let tileParts = 0
  for (;;) {
    if (p === n) break // a prefix of whole tile-parts, without EOC
    const marker = u16(p, 'marker after a tile-part')
    if (marker === EOC) break
    if (marker !== SOT) fail(`expected SOT or EOC at byte ${p}, found ${name(marker)}`)
    const lsot = u16(p + 2, 'Lsot')
    if (lsot !== 10) fail(`SOT at byte ${p} has length ${lsot}, expected 10`)
    const isot = u16(p + 4, 'Isot')
    let psot = u32(p + 6, 'Psot')
    if (isot >= tiles) fail(`tile-part at byte ${p} belongs to tile ${isot}, the codestream has ${tiles}`)
    if (psot === 0) psot = n - p // runs to the end of the codestream (last tile-part only)
    else if (psot < 14) fail(`tile-part at byte ${p} has length ${psot}: too short for SOT and SOD`)
    if (p + psot > n) fail(`tile-part at byte ${p} has length ${psot} but only ${n - p} bytes remain: truncated or corrupt`)
    // the tile-part header: segments up to SOD, inside the tile-part
    let q = p + 12
    for (;;) {
      const m = u16(q, 'tile-part header marker')
      if (m === SOD) break
      if ((m & 0xff00) !== 0xff00) fail(`expected a marker at byte ${q} in the tile-part header at byte ${p}, found 0x${m.toString(16)}`)
      const len = u16(q + 2, `${name(m)} length`)
      if (len < 2 || q + 2 + len + 2 > p + psot) fail(`${name(m)} at byte ${q} (length ${len}) runs past its tile-part's end`)
      if (UNSUPPORTED[m] != null) unsupported(`the codestream uses ${UNSUPPORTED[m]}, which OpenJPH does not decode`)
      if (!SKIPPED_TILE.has(m)) fail(`marker ${name(m)} at byte ${q} is not allowed in a tile-part header`)
      q += 2 + len
    }
    if (q + 2 > p + psot) fail(`SOD of the tile-part at byte ${p} lies past its end`)
    tileParts++
    if (tileParts > 255 * tiles) fail(`more than ${255 * tiles} tile-parts`)
    p += psot
  }
  if (tileParts === 0) fail('no tile-part')
  return { width, height, components: csiz, bitsPerSample, signed, decompositions: D, tiles, tileParts, precincts, codeblocks, decodedBytes }
}

/** The three subbands (HL, LH, HH) of decomposition level `level` (1 = finest) of a tile, on the band grid. */
function subbands (x0: number, x1: number, y0: number, y1: number, level: number): number[][] {
  const d = 2 ** (level - 1)
  const band = (ox: number, oy: number): number[] => [
    Math.ceil((x0 - d * ox) / (2 * d)), Math.ceil((x1 - d * ox) / (2 * d)),
    Math.ceil((y0 - d * oy) / (2 * d)), Math.ceil((y1 - d * oy) / (2 * d))
  ]
  return [band(1, 0), band(0, 1), band(1, 1)]
}

/** Scod and SPcod of a COD (`body` at Scod), or Scoc and SPcoc of a COC (`body` at Scoc); `end` is the segment's end. */
function readCoding (bytes: Uint8Array, body: number, end: number, what: string, isCod: boolean): Coding {
  // COD body: Scod, SGcod (order, layers x2, mct), SPcod. COC body (after Ccoc): Scoc, SPcoc.
  const scod = bytes[body]
  const sp = body + (isCod ? 5 : 1)
  if (sp + 5 > end) fail(`${what} segment too short`)
  const order = bytes[body + 1]
  if (isCod && order > 4) fail(`COD progression order ${order}`)
  if ((scod & ~(isCod ? 7 : 1)) !== 0) fail(`${what} style 0x${scod.toString(16)} has reserved bits set`)
  const decompositions = bytes[sp]
  const xcbE = bytes[sp + 1]
  const ycbE = bytes[sp + 2]
  const style = bytes[sp + 3]
  const wavelet = bytes[sp + 4]
  if (decompositions > 32) fail(`${what} declares ${decompositions} decomposition levels (at most 32)`)
  if (xcbE > 8 || ycbE > 8 || xcbE + ycbE > 8) fail(`${what} code-block size 2^${xcbE + 2}x2^${ycbE + 2} (each side 4..1024, area at most 4096)`)
  if ((style & 0xc0) !== 0x40) unsupported(`${what} code-block style 0x${style.toString(16)} is not pure HTJ2K (HT bit unset, or mixed HT/Part 1 blocks): this release decodes HTJ2K only`)
  if (wavelet > 1) unsupported(`${what} wavelet ${wavelet} (Part 2 arbitrary kernels) is not supported`)
  const precinctsGiven = (scod & 1) !== 0
  const expected = sp + 5 + (precinctsGiven ? decompositions + 1 : 0)
  if (end !== expected) fail(`${what} length does not match its content (${end - expected > 0 ? 'longer' : 'shorter'} by ${Math.abs(end - expected)} bytes)`)
  const ppx: number[] = []
  const ppy: number[] = []
  for (let r = 0; r <= decompositions; r++) {
    const v = precinctsGiven ? bytes[sp + 5 + r] : 0xff
    const px = v & 0x0f
    const py = v >> 4
    if (r > 0 && (px < 1 || py < 1)) fail(`${what} precinct size 2^${px}x2^${py} at resolution ${r} (at least 2x2 above resolution 0)`)
    ppx.push(px)
    ppy.push(py)
  }
  return { decompositions, xcb: xcbE + 2, ycb: ycbE + 2, ppx, ppy }
}

/** QCD / QCC body (from Sqcd) of `length` bytes counting the 2-byte length field. */
function checkQuantization (bytes: Uint8Array, at: number, length: number, D: number, comp: number): void {
  const what = comp < 0 ? 'QCD' : `QCC of component ${comp}`
  const style = bytes[at] & 0x1f
  const bands = 3 * D + 1
  const expected = style === 0 ? 3 + bands : style === 1 ? 5 : style === 2 ? 3 + 2 * bands : -1
  if (expected < 0) fail(`${what} quantization style ${style}`)
  if (length !== expected) fail(`${what} length ${length} does not match ${D} decomposition levels (expected ${expected})`)
}
