/**
 * A synthetic chest-radiograph-like image: body outline, lungs, mediastinum,
 * spine, ribs and clavicles as smooth shapes, plus gentle seeded noise.
 * 16-bit container, 12 bits stored, MONOCHROME2 (dense = bright).
 */
import type { ImageMeta, RasterImage } from '../types.js'
import { gaussian, mulberry32 } from './prng.js'

/** Smooth 0..1 step from edge0 to edge1. */
function smoothstep (edge0: number, edge1: number, x: number): number {
  const t = Math.max(0, Math.min(1, (x - edge0) / (edge1 - edge0)))
  return t * t * (3 - 2 * t)
}

/** 1 inside the ellipse (cx, cy, rx, ry) in normalised coordinates, fading to 0 over `soft`. */
function ellipse (x: number, y: number, cx: number, cy: number, rx: number, ry: number, soft: number): number {
  const d = Math.sqrt(((x - cx) / rx) ** 2 + ((y - cy) / ry) ** 2)
  return 1 - smoothstep(1 - soft, 1 + soft, d)
}

/** Density contribution of the ribs: arcs below each other on both sides, inside the lungs. */
function ribs (x: number, y: number): number {
  let v = 0
  const ax = Math.abs(x)
  for (let r = 0; r < 9; r++) {
    const y0 = -0.55 + r * 0.12
    // a rib: a downward arc from the spine outwards
    const curve = y0 + 0.77 * (ax - 0.08) ** 2
    const thickness = 0.018 + 0.004 * (r % 3)
    const dist = Math.abs(y - curve)
    if (ax > 0.06 && ax < 0.78) v += (1 - smoothstep(thickness * 0.6, thickness, dist)) * smoothstep(0.06, 0.12, ax) * (1 - smoothstep(0.7, 0.78, ax))
  }
  return Math.min(v, 1.3)
}

/** Radiograph-like 12-bit image (default 1024x1024, 0.35 mm pixels), deterministic. */
export function radiographImage (options?: { width?: number, height?: number }): { image: RasterImage, meta: ImageMeta } {
  const width = options?.width ?? 1024
  const height = options?.height ?? 1024
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1 || width > 8192 || height > 8192) {
    throw new RangeError(`radiographImage: invalid size ${width}x${height}`)
  }
  const noise = gaussian(mulberry32(0x5eed1234))
  const data = new Uint16Array(width * height)
  const scale = Math.max(width, height) / 2
  for (let j = 0; j < height; j++) {
    const y = (j - height / 2) / scale
    for (let i = 0; i < width; i++) {
      const x = (i - width / 2) / scale
      const body = ellipse(x, y, 0, 0.1, 0.85, 1.05, 0.06)
      const lungs = ellipse(x, y, -0.36, -0.05, 0.27, 0.55, 0.15) + ellipse(x, y, 0.36, -0.05, 0.27, 0.55, 0.15)
      const heart = ellipse(x, y, 0.08, 0.25, 0.26, 0.22, 0.25)
      const spine = (1 - smoothstep(0.05, 0.08, Math.abs(x))) * body
      const clavicle = (1 - smoothstep(0.012, 0.025, Math.abs(y + 0.62 - 0.15 * Math.abs(x)))) * (1 - smoothstep(0.5, 0.6, Math.abs(x))) * smoothstep(0.05, 0.1, Math.abs(x))
      let v = 150 + 1500 * body - 900 * Math.min(lungs, 1) * body + 700 * heart * body + 900 * spine
      v += 450 * ribs(x, y) * body + 600 * clavicle
      v += 18 * noise()
      data[j * width + i] = Math.max(0, Math.min(4095, Math.round(v)))
    }
  }
  const image: RasterImage = { width, height, components: 1, bitsStored: 12, signed: false, data }
  const meta: ImageMeta = { sourceFormat: 'synthetic', modality: 'DX', photometric: 'MONOCHROME2', spacing: [0.35, 0.35], bitsAllocated: 16 }
  return { image, meta }
}
