/**
 * Decoded or native samples of one DICOM frame to the RasterImage mist-p2p
 * publishes: gray frames keep their stored values (masked to BitsStored,
 * sign-extended; MONOCHROME1 is not inverted), colour frames become
 * interleaved 8-bit RGB (YCbCr converted, palettes expanded).
 */
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'
import type { RasterImage } from '../../types.js'
import { applyPalette, ybrFullToRgb, type Palette } from './color.js'
import { interleave, normalizeSamples, type PixelModule } from './pixels.js'

/** Raw samples of one frame and how they are laid out. */
export interface RawFrame {
  width: number
  height: number
  components: number
  data: ArrayLike<number>
  layout: 'interleaved' | 'planar'
  /** Right shift that brings HighBit down to BitsStored - 1 (native and RLE data); 0 for decoded codestreams. */
  shift: number
  /** The decoder already turned YCbCr into RGB. */
  colorTransformed: boolean
}

/** Photometric interpretations the reader accepts. */
export const READABLE_PHOTOMETRIC = ['MONOCHROME1', 'MONOCHROME2', 'RGB', 'YBR_FULL', 'YBR_FULL_422', 'YBR_RCT', 'YBR_ICT', 'PALETTE COLOR']

/** The published image, the photometric it now has, and whether a rounding colour conversion was applied. */
export interface FinishedFrame { image: RasterImage, photometric: string, converted: boolean }

/** Applies the pixel-module rules and the colour model to one frame. */
export function finishFrame (label: string, pm: PixelModule, photometric: string, raw: RawFrame, palette?: Palette): FinishedFrame {
  const expectComponents = photometric === 'PALETTE COLOR' ? 1 : pm.samplesPerPixel
  if (raw.width !== pm.columns || raw.height !== pm.rows || raw.components !== expectComponents) {
    throw new InvalidInputError(`${label}: decoded frame is ${raw.width}x${raw.height}x${raw.components} but the DICOM header says ${pm.columns}x${pm.rows}x${pm.samplesPerPixel}`)
  }
  const n = raw.width * raw.height * raw.components
  const samples = normalizeSamples(raw.data, n, pm.bitsStored, pm.signed, raw.shift)
  const base = { width: raw.width, height: raw.height }
  if (photometric === 'PALETTE COLOR') {
    if (palette == null) throw new InvalidInputError(`${label}: PALETTE COLOR image without a palette`)
    if (pm.signed) throw new InvalidInputError(`${label}: PALETTE COLOR image with signed indices`)
    return { image: { ...base, components: 3, bitsStored: 8, signed: false, data: applyPalette(samples, palette) }, photometric: 'RGB', converted: false }
  }
  if (raw.components === 1) {
    return { image: { ...base, components: 1, bitsStored: pm.bitsStored, signed: pm.signed, data: samples }, photometric, converted: false }
  }
  if (raw.components !== 3 || pm.bitsStored > 8 || pm.signed) {
    throw new UnsupportedInputError(`${label}: DICOM ${raw.components}-sample ${pm.bitsStored}-bit ${pm.signed ? 'signed ' : ''}${photometric} images are not supported (colour must be 3 samples of 8 bits)`)
  }
  const rgbOrYbr = raw.layout === 'planar' ? interleave(samples as Uint8Array, raw.width * raw.height, 3) : samples as Uint8Array
  const ybr = (photometric === 'YBR_FULL' || photometric === 'YBR_FULL_422') && !raw.colorTransformed
  const data = ybr ? ybrFullToRgb(rgbOrYbr) : rgbOrYbr
  return { image: { ...base, components: 3, bitsStored: 8, signed: false, data }, photometric: 'RGB', converted: ybr }
}
