/**
 * The width and height a compressed DICOM frame's own codestream declares (JPEG family SOF, JPEG-LS
 * SOF55, JPEG 2000 SIZ), read before the third-party decoder is called: the decoders allocate for
 * what the codestream says, so a frame of a few bytes inside a DICOM claiming 512x512 could
 * otherwise make them allocate gigabytes before the mismatch is noticed.
 */
import type { PixelCodec } from './transfer-syntax.js'

/** Declared size, or undefined when the header does not say (JPEG height 0 with DNL, no SOF found, RLE). */
export function declaredFrameSize (codec: PixelCodec, bytes: Uint8Array): { width: number, height: number } | undefined {
  if (codec === 'j2k' || codec === 'htj2k') return sizOf(bytes)
  if (codec === 'jpeg' || codec === 'jpeg-lossless' || codec === 'jpeg-ls') return sofOf(bytes)
  return undefined
}

const u16 = (b: Uint8Array, at: number): number => (b[at] << 8) | b[at + 1]
const u32 = (b: Uint8Array, at: number): number => ((b[at] << 24) >>> 0) + (b[at + 1] << 16) + (b[at + 2] << 8) + b[at + 3]

/** SIZ follows SOC directly (ISO 15444-1 A.5.1): extent minus origin. */
function sizOf (cs: Uint8Array): { width: number, height: number } | undefined {
  if (cs.length < 24 || u16(cs, 0) !== 0xff4f || u16(cs, 2) !== 0xff51) return undefined
  return { width: u32(cs, 8) - u32(cs, 16), height: u32(cs, 12) - u32(cs, 20) }
}

/** The first SOF (C0-C3, C5-C7, C9-CB, CD-CF) or JPEG-LS SOF55 (F7) before the first scan. */
function sofOf (b: Uint8Array): { width: number, height: number } | undefined {
  if (b.length < 4 || u16(b, 0) !== 0xffd8) return undefined
  let at = 2
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) return undefined
    const m = b[at + 1]
    if (m === 0xff) { at++; continue } // fill byte
    if ((m >= 0xd0 && m <= 0xd7) || m === 0x01) { at += 2; continue } // no length
    if (m === 0xda || m === 0xd9) return undefined // scan or end before any SOF
    const isSof = (m >= 0xc0 && m <= 0xcf && m !== 0xc4 && m !== 0xc8 && m !== 0xcc) || m === 0xf7
    if (isSof) {
      if (at + 9 > b.length) return undefined
      const height = u16(b, at + 5)
      const width = u16(b, at + 7)
      return height === 0 ? undefined : { width, height }
    }
    at += 2 + u16(b, at + 2)
  }
  return undefined
}
