/**
 * The Image Pixel module of a data set, checked: sizes, bits, sign, samples
 * and a photometric interpretation the reader can publish.
 */
import type { DataSet } from 'dicom-parser'
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'
import { READABLE_PHOTOMETRIC } from './frame.js'
import type { PixelModule } from './pixels.js'

/** Pixel module plus the photometric interpretation (trimmed). */
export function readPixelModule (label: string, ds: DataSet, littleEndian: boolean): { pm: PixelModule, photometric: string } {
  const need = (tag: string, name: string): number => {
    const v = ds.uint16(tag)
    if (v == null) throw new InvalidInputError(`${label}: DICOM image lacks ${name} (${tag})`)
    return v
  }
  const rows = need('x00280010', 'Rows')
  const columns = need('x00280011', 'Columns')
  const bitsAllocated = need('x00280100', 'BitsAllocated')
  const bitsStored = ds.uint16('x00280101') ?? bitsAllocated
  const highBit = ds.uint16('x00280102') ?? bitsStored - 1
  const signed = (ds.uint16('x00280103') ?? 0) === 1
  const samplesPerPixel = ds.uint16('x00280002') ?? 1
  const planarConfiguration = ds.uint16('x00280006') ?? 0
  const photometric = (ds.string('x00280004') ?? 'MONOCHROME2').trim()
  // 1-bit (bit-packed) masks and overlays-as-images are unpacked to one 0/1 byte per pixel
  const packed1 = bitsAllocated === 1
  if (packed1 && (samplesPerPixel !== 1 || bitsStored !== 1)) {
    throw new InvalidInputError(`${label}: DICOM BitsAllocated 1 needs SamplesPerPixel 1 and BitsStored 1 (has ${samplesPerPixel} and ${bitsStored})`)
  }
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && !packed1) {
    throw new UnsupportedInputError(`${label}: DICOM BitsAllocated ${bitsAllocated} is not supported (1, 8 or 16): convert to 16-bit first`)
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw new InvalidInputError(`${label}: inconsistent DICOM pixel module: BitsAllocated ${bitsAllocated}, BitsStored ${bitsStored}, HighBit ${highBit}`)
  }
  if (!READABLE_PHOTOMETRIC.includes(photometric)) {
    throw new UnsupportedInputError(`${label}: DICOM photometric interpretation ${photometric} is not supported`)
  }
  const mono = photometric.startsWith('MONOCHROME') || photometric === 'PALETTE COLOR'
  if (mono ? samplesPerPixel !== 1 : samplesPerPixel !== 3) {
    throw new InvalidInputError(`${label}: DICOM ${photometric} image with SamplesPerPixel ${samplesPerPixel}`)
  }
  if (samplesPerPixel === 3 && bitsAllocated !== 8) {
    throw new UnsupportedInputError(`${label}: DICOM ${bitsAllocated}-bit ${photometric} colour is not supported (only 8-bit colour)`)
  }
  if (packed1) return { pm: { rows, columns, samplesPerPixel, bitsAllocated: 8, bitsStored: 1, highBit: 0, signed: false, planarConfiguration, littleEndian, packed1: true }, photometric }
  return { pm: { rows, columns, samplesPerPixel, bitsAllocated: bitsAllocated as 8 | 16, bitsStored, highBit, signed, planarConfiguration, littleEndian }, photometric }
}
