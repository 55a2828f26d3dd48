/**
 * Checks a codestream's markers and parameters BEFORE OpenJPH sees it.
 *
 * OpenJPH (this WASM build) trusts its input: hostile values make it loop for
 * ever or allocate without bound, and it reports nothing. Found by fuzzing
 * (test/fuzz/fuzz.test.ts) and measured here:
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
 * what is wrong. The fields are read with src/j2k (its reader throws this
 * module's CodecError); the rules are OpenJPH's, kept here.
 */
import { CodecError } from '../errors.js'
import {
  ATK, ByteReader, CAP, COC, COD, COM, CRG, DFS, EOC, MAX_DECOMPOSITIONS, NLT, PLM, PLT, POC, PPM, PPT, QCC, QCD, RGN, SIZ, SOC, SOT, TLM,
  ceilShift, componentIndexBytes, markerName as name, quantizationLength, readCod, readCodingStyle, readComponent, readComponentIndex,
  readPrecincts, readSiz, readSot, tileGrid, walkSegments, walkTilePartHeader, SOT_BYTES
} from '../j2k/index.js'
import { MAX_BITS, MAX_DECODED_BYTES, MAX_SIDE } from './validate.js'

export { MAX_DECODED_BYTES }
/** Most tiles a codestream may have (mist-p2p writes one; OpenJPH spends ~80 KB per tile). */
export const MAX_TILES = 256
/** Most precincts, summed over tiles, components and every resolution (mist-p2p writes one per resolution). */
export const MAX_PRECINCTS = 65536
/** Most code-blocks, summed over tiles, components, resolutions and subbands (8192x8192 in 16x16 blocks is 350k). */
export const MAX_CODEBLOCKS = 1 << 20

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
  /** SGcod's quality layers and multiple component transform (1 and 0 for a COC, which has none). */
  layers: number
  mct: number
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

/**
 * Check `bytes` (a codestream, or a prefix of whole tile-parts with or without EOC)
 * for a decode at `reduce`. Throws CodecError, or returns what the header says.
 */
export function checkCodestream (bytes: Uint8Array, reduce: number): CheckedHeader {
  const n = bytes.length
  // a read past the end names the first missing byte, as OpenJPH would meet it
  const r = new ByteReader(bytes, 'codestream', (at, _size, what) => fail(`truncated in ${what} (byte ${Math.max(at, n)} of ${n})`))

  if (n < 2 || r.u16(0, 'SOC') !== SOC) fail('it does not start with SOC (FF4F)')
  if (r.u16(2, 'SIZ') !== SIZ) fail('SIZ (FF51) does not follow SOC')

  // ---------------------------------------------------------------- SIZ
  const lsiz = r.u16(4, 'SIZ length')
  const csiz = r.u16(40, 'Csiz')
  if (csiz < 1 || lsiz !== 38 + 3 * csiz) fail(`SIZ length ${lsiz} does not match its ${csiz} components`)
  if (4 + lsiz > n) fail(`SIZ runs past the end (${n} bytes)`)
  const siz = readSiz(r)
  const { xsiz, ysiz, x0, y0, xt, yt, xt0, yt0 } = siz
  if (!(xsiz > x0 && ysiz > y0)) fail(`empty image: SIZ extent ${xsiz}x${ysiz} with origin ${x0},${y0}`)
  const width = xsiz - x0
  const height = ysiz - y0
  if (width > MAX_SIDE || height > MAX_SIDE) unsupported(`the image is ${width}x${height}: at most ${MAX_SIDE} per side`)
  if (xsiz >= 2 ** 31 || ysiz >= 2 ** 31) unsupported(`SIZ extent ${xsiz}x${ysiz} is beyond 2^31 (OpenJPH computes positions in 32 bits)`)
  if (xt < 1 || yt < 1) fail(`tile size ${xt}x${yt}`)
  if (xt0 > x0 || yt0 > y0 || xt0 + xt <= x0 || yt0 + yt <= y0) fail(`the first tile (origin ${xt0},${yt0}, size ${xt}x${yt}) does not contain the image origin ${x0},${y0}`)
  const { x: tilesX, y: tilesY } = tileGrid(siz)
  if (xt0 + tilesX * xt >= 2 ** 32 || yt0 + tilesY * yt >= 2 ** 32) unsupported(`tiles of ${xt}x${yt} from ${xt0},${yt0} end beyond 2^32 (OpenJPH computes positions in 32 bits)`)
  const tiles = tilesX * tilesY
  if (tiles > MAX_TILES) unsupported(`the codestream has ${tilesX}x${tilesY} tiles of ${xt}x${yt}: at most ${MAX_TILES} tiles`)
  let bitsPerSample = 0
  let signed = false
  for (let c = 0; c < csiz; c++) {
    const { bits, signed: sgn, dx, dy } = readComponent(r, siz, c)
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
  const cocs = new Map<number, Coding>()
  const qcds: Array<{ at: number, length: number, comp: number }> = []
  const cb = componentIndexBytes(csiz)
  let p = walkSegments(r, siz.end, {
    stop: SOT,
    eoc: () => fail('EOC before any tile-part'),
    notMarker: (at, word) => fail(`expected a marker at byte ${at}, found 0x${word.toString(16)}`),
    badLength: (marker, at, length) => fail(`${name(marker)} at byte ${at} has length ${length}, past the end (${n} bytes)`)
  }, ({ marker, offset, length: total, body, end }) => {
    const length = total - 2
    if (marker === COD) {
      if (cod != null) fail('two COD segments')
      cod = readCoding(r, body, end, 'COD', true)
    } else if (marker === COC) {
      const comp = readComponentIndex(r, body, csiz, 'Ccoc')
      if (comp >= csiz) fail(`COC for component ${comp} of ${csiz}`)
      if (cocs.has(comp)) fail(`two COC segments for component ${comp}`)
      cocs.set(comp, readCoding(r, body + cb, end, 'COC', false))
    } else if (marker === QCD) {
      if (qcds.some((q) => q.comp < 0)) fail('two QCD segments')
      qcds.push({ at: body, length, comp: -1 })
    } else if (marker === QCC) {
      const comp = readComponentIndex(r, body, csiz, 'Cqcc')
      if (comp >= csiz) fail(`QCC for component ${comp} of ${csiz}`)
      if (qcds.some((q) => q.comp === comp)) fail(`two QCC segments for component ${comp}`)
      qcds.push({ at: body + cb, length: length - cb, comp })
    } else if (marker === CAP) {
      const pcap = r.u32(body, 'Pcap')
      if (pcap !== 0x00020000) fail(`CAP declares capabilities 0x${pcap.toString(16)}: only Part 15 (HTJ2K) is supported`)
      if (length !== 8) fail(`CAP length ${length}, expected 8`)
    } else if (UNSUPPORTED[marker] != null && marker !== COD && marker !== COC && marker !== QCD && marker !== QCC) {
      unsupported(`the codestream uses ${UNSUPPORTED[marker]}, which OpenJPH does not decode`)
    } else if (!SKIPPED_MAIN.has(marker)) {
      fail(`unknown marker ${name(marker)} at byte ${offset} in the main header`)
    }
  })
  if (cod == null) fail('no COD segment')
  const main = cod as Coding
  if (qcds.every((q) => q.comp >= 0)) fail('no QCD segment')
  const D = main.decompositions
  for (const [comp, c] of cocs) {
    if (c.decompositions !== D) unsupported(`COC gives component ${comp} ${c.decompositions} decomposition levels, COD ${D}: per-component levels are not supported`)
  }
  for (const q of qcds) checkQuantization(r, q.at, q.length, D, q.comp)
  const layers = main.layers
  if (layers !== 1) unsupported(`the codestream has ${layers} quality layers: OpenJPH decodes single-layer codestreams only`)
  const mct = main.mct
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
    const marker = r.u16(p, 'marker after a tile-part')
    if (marker === EOC) break
    if (marker !== SOT) fail(`expected SOT or EOC at byte ${p}, found ${name(marker)}`)
    const at = p
    const sot = readSot(r, at, (lsot) => fail(`SOT at byte ${at} has length ${lsot}, expected 10`))
    let psot = sot.length
    if (sot.tile >= tiles) fail(`tile-part at byte ${p} belongs to tile ${sot.tile}, the codestream has ${tiles}`)
    if (psot === 0) psot = n - p // runs to the end of the codestream (last tile-part only)
    else if (psot < SOT_BYTES + 2) fail(`tile-part at byte ${p} has length ${psot}: too short for SOT and SOD`)
    if (p + psot > n) fail(`tile-part at byte ${p} has length ${psot} but only ${n - p} bytes remain: truncated or corrupt`)
    // the tile-part header: segments up to SOD, inside the tile-part
    const sod = walkTilePartHeader(r, sot, p + psot, {
      notMarker: (q, word) => fail(`expected a marker at byte ${q} in the tile-part header at byte ${at}, found 0x${word.toString(16)}`),
      badLength: (m, q, len) => fail(`${name(m)} at byte ${q} (length ${len}) runs past its tile-part's end`)
    }, ({ marker: m, offset: q }) => {
      if (UNSUPPORTED[m] != null) unsupported(`the codestream uses ${UNSUPPORTED[m]}, which OpenJPH does not decode`)
      if (!SKIPPED_TILE.has(m)) fail(`marker ${name(m)} at byte ${q} is not allowed in a tile-part header`)
    })
    if (sod + 2 > p + psot) fail(`SOD of the tile-part at byte ${p} lies past its end`)
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
function readCoding (r: ByteReader, body: number, end: number, what: string, isCod: boolean): Coding {
  // COD body: Scod, SGcod (order, layers x2, mct), SPcod. COC body (after Ccoc): Scoc, SPcoc.
  const sp = body + (isCod ? 5 : 1)
  if (sp + 5 > end) fail(`${what} segment too short`)
  const c = isCod ? readCod(r, body) : { scod: r.u8(body, 'Scoc'), order: 0, layers: 1, mct: 0, ...readCodingStyle(r, sp) }
  const { scod, decompositions, cbStyle: style, wavelet } = c
  if (isCod && c.order > 4) fail(`COD progression order ${c.order}`)
  if ((scod & ~(isCod ? 7 : 1)) !== 0) fail(`${what} style 0x${scod.toString(16)} has reserved bits set`)
  if (decompositions > MAX_DECOMPOSITIONS) fail(`${what} declares ${decompositions} decomposition levels (at most ${MAX_DECOMPOSITIONS})`)
  if (c.xcb > 8 || c.ycb > 8 || c.xcb + c.ycb > 8) fail(`${what} code-block size 2^${c.xcb + 2}x2^${c.ycb + 2} (each side 4..1024, area at most 4096)`)
  if ((style & 0xc0) !== 0x40) unsupported(`${what} code-block style 0x${style.toString(16)} is not pure HTJ2K (HT bit unset, or mixed HT/Part 1 blocks): this release decodes HTJ2K only`)
  if (wavelet > 1) unsupported(`${what} wavelet ${wavelet} (Part 2 arbitrary kernels) is not supported`)
  const precinctsGiven = (scod & 1) !== 0
  const expected = sp + 5 + (precinctsGiven ? decompositions + 1 : 0)
  if (end !== expected) fail(`${what} length does not match its content (${end - expected > 0 ? 'longer' : 'shorter'} by ${Math.abs(end - expected)} bytes)`)
  const { ppx, ppy } = readPrecincts(r, sp + 5, decompositions, precinctsGiven)
  for (let level = 1; level <= decompositions; level++) {
    if (ppx[level] < 1 || ppy[level] < 1) fail(`${what} precinct size 2^${ppx[level]}x2^${ppy[level]} at resolution ${level} (at least 2x2 above resolution 0)`)
  }
  return { decompositions, xcb: c.xcb + 2, ycb: c.ycb + 2, ppx, ppy, layers: c.layers, mct: c.mct }
}

/** QCD / QCC body (from Sqcd) of `length` bytes counting the 2-byte length field. */
function checkQuantization (r: ByteReader, at: number, length: number, D: number, comp: number): void {
  const what = comp < 0 ? 'QCD' : `QCC of component ${comp}`
  const style = r.u8(at, 'Sqcd') & 0x1f
  const expected = quantizationLength(style, D)
  if (expected < 0) fail(`${what} quantization style ${style}`)
  if (length !== expected) fail(`${what} length ${length} does not match ${D} decomposition levels (expected ${expected})`)
}
