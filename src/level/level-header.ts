import type { ImageRoot } from '../chunker/index.js'
import { MAX_DECODED_BYTES } from '../codec/validate.js'
import { CodecError, FormatError } from '../errors.js'
import { ByteReader, COD, MAX_DECOMPOSITIONS, SIZ, SOC, SOT, readCod, readComponent, readSiz, walkSegments } from '../j2k/index.js'

/** Largest decoded level accepted: the encoder's side limit, and 2 GiB of samples. */
export const MAX_LEVEL_SIDE = 65535
export const MAX_LEVEL_BYTES = 2 ** 31

/**
 * Refuses, before any block is fetched, a level whose decoded raster would exceed the
 * bounds above (a hostile root can claim any size; the decoder would allocate it).
 */
export function checkLevelBounds (root: ImageRoot, level: number, name: string): void {
  const lv = root.levels[level]
  if (lv == null) return
  const bytesPerSample = root.codestream.bitDepth <= 8 ? 1 : 2
  const bytes = lv.width * lv.height * root.components * bytesPerSample
  if (lv.width > MAX_LEVEL_SIDE || lv.height > MAX_LEVEL_SIDE || bytes > MAX_LEVEL_BYTES) {
    throw new FormatError(`${name}: level ${level} claims ${lv.width}x${lv.height}x${root.components} samples (${bytes} bytes), more than mist-p2p decodes (${MAX_LEVEL_SIDE} per side, ${MAX_LEVEL_BYTES} bytes); the root is corrupt or hostile`)
  }
  // the codec would refuse it after the fetch: refuse before, so its blocks are neither fetched nor held
  if (bytes > MAX_DECODED_BYTES) {
    throw new CodecError(`${name}: level ${level} is ${lv.width}x${lv.height}x${root.components} samples (${bytes} bytes), more than the ${MAX_DECODED_BYTES}-byte limit of this release's decoder; choose a coarser level (--level ${Math.max(0, level - 1)} or --size)`)
  }
}

/**
 * Checks that the main header of a fetched level codestream says what the image root says
 * (image size and origin, components, bit depth, decompositions, header length) before it is
 * decoded: a root whose blocks hold another codestream is refused instead of decoded at the
 * size the codestream claims.
 */
export function checkLevelHeader (codestream: Uint8Array, root: ImageRoot, name: string): void {
  const fail = (what: string): never => {
    throw new FormatError(`${name}: the codestream in its blocks does not match its image root (${what}); the root or its blocks are corrupt or hostile, republish the image`)
  }
  const r = new ByteReader(codestream, name, (at) => fail(`truncated at byte ${at}`))
  if (r.u16(0, 'SOC') !== SOC || r.u16(2, 'SIZ') !== SIZ) fail('no SOC and SIZ at its start')
  const siz = readSiz(r)
  const { xsiz, ysiz, x0, y0, csiz } = siz
  const { bits, signed } = readComponent(r, siz, 0)
  const cs = root.codestream
  if (xsiz - x0 !== root.width || ysiz - y0 !== root.height || x0 !== cs.x0 || y0 !== cs.y0) fail(`SIZ says ${xsiz - x0}x${ysiz - y0} at ${x0},${y0}, the root ${root.width}x${root.height} at ${cs.x0},${cs.y0}`)
  if (csiz !== root.components) fail(`SIZ has ${csiz} components, the root ${root.components}`)
  if (bits !== cs.bitDepth || signed !== cs.signed) fail(`SIZ says ${signed ? 'signed' : 'unsigned'} ${bits} bits, the root ${cs.signed ? 'signed' : 'unsigned'} ${cs.bitDepth}`)
  let decompositions = -1
  let segments = 0
  const end = walkSegments(r, siz.end, {
    stop: SOT,
    notMarker: (at) => fail(`no marker at byte ${at}`),
    // a segment past the end: the next marker would be read there
    badLength: (_marker, at, length) => fail(length < 2 ? `segment length ${length} at byte ${at}` : `truncated at byte ${at + 2 + length}`)
  }, (seg) => {
    if (++segments > 1000) fail(`no marker at byte ${seg.offset}`)
    if (seg.marker === COD) decompositions = readCod(r, seg.body).decompositions
  })
  if (end !== cs.mainHeader) fail(`main header is ${end} bytes, the root says ${cs.mainHeader}`)
  if (decompositions < 0 || decompositions > MAX_DECOMPOSITIONS || decompositions !== cs.decompositions) fail(`COD has ${decompositions} decompositions, the root ${cs.decompositions}`)
}
