/**
 * A minimal PNG chunk walker: checks the structure (so truncation is reported
 * precisely) and extracts IHDR and sBIT. Pixels: rows.ts, or pngjs for the rest.
 */
import { InvalidInputError } from '../../errors.js'

/** Facts from IHDR (and sBIT) of a PNG. */
export interface PngHeader {
  width: number
  height: number
  bitDepth: number
  /** 0 gray, 2 RGB, 3 palette, 4 gray+alpha, 6 RGBA */
  colorType: number
  interlace: number
  /** Significant bits per channel from sBIT, when present. */
  significantBits?: number[]
}

/** Number of channels per PNG colour type. */
export const PNG_CHANNELS: Record<number, number> = { 0: 1, 2: 3, 3: 1, 4: 2, 6: 4 }

/** Walks the chunks of a PNG file; throws InvalidInputError on truncation or missing IHDR/IDAT/IEND. */
export function readPngHeader (label: string, bytes: Uint8Array): PngHeader {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let pos = 8
  let header: PngHeader | undefined
  let sawIdat = false
  for (;;) {
    if (pos + 12 > bytes.length) {
      throw new InvalidInputError(`${label}: truncated PNG: chunk header at byte ${pos} runs past the end of the file (${bytes.length} bytes)${sawIdat ? '' : ', no image data'}`)
    }
    const length = view.getUint32(pos)
    const type = String.fromCharCode(...bytes.subarray(pos + 4, pos + 8))
    if (pos + 12 + length > bytes.length) {
      throw new InvalidInputError(`${label}: truncated PNG: chunk ${type} at byte ${pos} declares ${length} bytes but the file ends at ${bytes.length}`)
    }
    const data = pos + 8
    if (header == null && type !== 'IHDR') throw new InvalidInputError(`${label}: corrupt PNG: first chunk is ${type}, not IHDR`)
    if (type === 'IHDR') {
      if (length < 13) throw new InvalidInputError(`${label}: corrupt PNG: IHDR is ${length} bytes`)
      header = {
        width: view.getUint32(data),
        height: view.getUint32(data + 4),
        bitDepth: bytes[data + 8],
        colorType: bytes[data + 9],
        interlace: bytes[data + 12]
      }
    } else if (type === 'sBIT' && header != null) {
      header.significantBits = Array.from(bytes.subarray(data, data + length))
    } else if (type === 'IDAT') {
      sawIdat = true
    } else if (type === 'IEND') {
      break
    }
    pos += 12 + length
  }
  if (header == null || !sawIdat) throw new InvalidInputError(`${label}: corrupt PNG: no ${header == null ? 'IHDR' : 'IDAT'} chunk`)
  if (PNG_CHANNELS[header.colorType] == null) throw new InvalidInputError(`${label}: corrupt PNG: unknown colour type ${header.colorType}`)
  return header
}
