import { MAX_DECOMPOSITIONS, type ImageRoot } from '../chunker/index.js'
import { MAX_DECODED_BYTES } from '../codec/validate.js'
import { CodecError, FormatError } from '../errors.js'

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
  const b = codestream
  const u16 = (at: number): number => (at + 2 <= b.length ? (b[at] << 8) | b[at + 1] : fail(`truncated at byte ${at}`))
  const u32 = (at: number): number => (at + 4 <= b.length ? ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) : fail(`truncated at byte ${at}`))
  if (u16(0) !== 0xff4f || u16(2) !== 0xff51) fail('no SOC and SIZ at its start')
  const lsiz = u16(4)
  const xsiz = u32(8)
  const ysiz = u32(12)
  const x0 = u32(16)
  const y0 = u32(20)
  const csiz = u16(40)
  const ssiz = b[42] ?? fail('truncated SIZ')
  const cs = root.codestream
  if (xsiz - x0 !== root.width || ysiz - y0 !== root.height || x0 !== cs.x0 || y0 !== cs.y0) fail(`SIZ says ${xsiz - x0}x${ysiz - y0} at ${x0},${y0}, the root ${root.width}x${root.height} at ${cs.x0},${cs.y0}`)
  if (csiz !== root.components) fail(`SIZ has ${csiz} components, the root ${root.components}`)
  if ((ssiz & 0x7f) + 1 !== cs.bitDepth || ((ssiz & 0x80) !== 0) !== cs.signed) fail(`SIZ says ${(ssiz & 0x80) !== 0 ? 'signed' : 'unsigned'} ${(ssiz & 0x7f) + 1} bits, the root ${cs.signed ? 'signed' : 'unsigned'} ${cs.bitDepth}`)
  let p = 4 + lsiz
  let decompositions = -1
  for (let n = 0; ; n++) {
    const marker = u16(p)
    if (marker === 0xff90) break
    if ((marker & 0xff00) !== 0xff00 || n > 1000) fail(`no marker at byte ${p}`)
    const len = u16(p + 2)
    if (len < 2) fail(`segment length ${len} at byte ${p}`)
    if (marker === 0xff52) decompositions = b[p + 2 + 7] ?? fail('truncated COD')
    p += 2 + len
  }
  if (p !== cs.mainHeader) fail(`main header is ${p} bytes, the root says ${cs.mainHeader}`)
  if (decompositions < 0 || decompositions > MAX_DECOMPOSITIONS || decompositions !== cs.decompositions) fail(`COD has ${decompositions} decompositions, the root ${cs.decompositions}`)
}
