import type { RasterImage } from '../types.js'

/** 300x200 uint16 12-bit gradient: the first known-answer input (fixtures/golden.json). */
export function gradientImage (): RasterImage {
  const width = 300
  const height = 200
  const data = new Uint16Array(width * height)
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) data[y * width + x] = (x * 13 + y * 7) % 4096
  return { width, height, components: 1, bitsStored: 12, signed: false, data }
}

/** 64x64 uint8 checker/xor pattern: the second known-answer input. */
export function patternImage (): RasterImage {
  const data = new Uint8Array(64 * 64)
  for (let y = 0; y < 64; y++) for (let x = 0; x < 64; x++) data[y * 64 + x] = ((x ^ y) * 3 + ((x >> 3) & 1) * 100) & 255
  return { width: 64, height: 64, components: 1, bitsStored: 8, signed: false, data }
}
