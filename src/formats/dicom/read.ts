/**
 * DICOM reader: native pixel data (implicit/explicit VR little endian,
 * deflated, explicit VR big endian) and encapsulated pixel data (RLE, JPEG,
 * JPEG lossless, JPEG-LS, JPEG 2000, HTJ2K), with or without the Part 10
 * preamble. One frame gives an 'image' (a 'volume' for a Siemens mosaic);
 * several frames give a 'volume' whose slices are decoded one at a time, or
 * several volumes for an enhanced multi-frame file (enhanced.ts).
 */
import type { DataSet } from 'dicom-parser'
import { InvalidInputError, UnsupportedInputError } from '../../errors.js'
import type { InputItem, RasterImage } from '../../types.js'
import { readPalette, type Palette } from './color.js'
import { decodeEncapsulatedFrame } from './decode.js'
import { finishFrame, type FinishedFrame } from './frame.js'
import { encapsulatedFrames, startsCodestream } from './fragments.js'
import { enhancedVolumes, isEnhancedMultiFrame } from './enhanced.js'
import { dicomImageMeta } from './meta.js'
import { demosaic, mosaicInfo } from './mosaic.js'
import { parseDicom } from './parse.js'
import { readPixelModule } from './pixel-module.js'
import { nativeFrameBytes, nativeRawFrame, unpackBits, type PixelModule } from './pixels.js'
import { ENCAPSULATED_TRANSFER_SYNTAXES, NATIVE_TRANSFER_SYNTAXES, transferSyntaxName } from './transfer-syntax.js'
import { multiFrameVolume } from './volume.js'
import { checkDimensions, checkFrame } from '../limits.js'

/** A decoded frame and whether its own codestream was irreversibly compressed. */
interface Decoded { finished: FinishedFrame, irreversible: boolean }

/** Parses a DICOM file held in memory into one InputItem: refused when the file holds several volumes (use readDicomItems). */
export async function readDicomBytes (label: string, bytes: Uint8Array): Promise<InputItem> {
  const items = await readDicomItems(label, bytes)
  if (items.length !== 1) throw new UnsupportedInputError(`${label}: enhanced multi-frame DICOM holding ${items.length} volumes: read it with readInputs (one item per volume)`)
  return items[0]
}

/**
 * Parses a DICOM file held in memory: an 'image' for one frame, a 'volume' for a
 * Siemens mosaic (demosaicked) or a multi-frame file, several volumes for an
 * enhanced multi-frame file with several stacks, temporal positions, echoes or b-values.
 */
export async function readDicomItems (label: string, bytes: Uint8Array): Promise<InputItem[]> {
  const { ds, ts } = parseDicom(label, bytes)
  const native = NATIVE_TRANSFER_SYNTAXES[ts]
  const encapsulated = ENCAPSULATED_TRANSFER_SYNTAXES[ts]
  if (native == null && encapsulated == null) {
    throw new UnsupportedInputError(`${label}: DICOM transfer syntax ${ts} (${transferSyntaxName(ts)}) is not supported: ${refusal(ts)}`)
  }
  const pixel = ds.elements.x7fe00010
  if (pixel == null) throw new InvalidInputError(`${label}: DICOM file has no pixel data`)
  const name = transferSyntaxName(ts)
  if (native != null && pixel.encapsulatedPixelData === true) {
    throw new InvalidInputError(`${label}: DICOM transfer syntax ${ts} (${name}) declares native pixel data but it is encapsulated`)
  }
  if (encapsulated != null && pixel.encapsulatedPixelData !== true) {
    throw new InvalidInputError(`${label}: DICOM transfer syntax ${ts} (${name}) declares compressed pixel data but it is native`)
  }
  const framesText = ds.string('x00280008')
  const frames = framesText == null ? 1 : Number(framesText)
  if (!Number.isInteger(frames) || frames < 1) throw new InvalidInputError(`${label}: invalid DICOM NumberOfFrames "${framesText ?? ''}"`)
  const littleEndian = native?.littleEndian ?? true
  const { pm, photometric } = readPixelModule(label, ds, littleEndian)
  const what = `${pm.columns}x${pm.rows}x${pm.samplesPerPixel}${frames > 1 ? ` x ${frames} frames` : ''} ${pm.packed1 === true ? 1 : pm.bitsAllocated}-bit`
  if (pm.packed1 === true && encapsulated != null) throw new UnsupportedInputError(`${label}: compressed 1-bit DICOM pixel data is not supported; convert with \`gdcmconv --raw\` first`)
  checkDimensions(label, [pm.columns, pm.rows, frames], pm.samplesPerPixel * pm.bitsAllocated / 8, what)
  checkFrame(label, pm.columns, pm.rows, photometric === 'PALETTE COLOR' ? 3 : pm.samplesPerPixel, pm.bitsAllocated > 8 ? 2 : 1, `DICOM ${what}`)
  const palette = photometric === 'PALETTE COLOR' ? readPalette(label, ds, littleEndian) : undefined
  const frame = native != null
    ? nativeFrames(label, ds, pm, photometric, frames, what, palette)
    : compressedFrames(label, ds, pm, photometric, frames, palette, encapsulated.codec)
  const first = await frame(0)
  const meta = dicomImageMeta(ds, ts, pm.packed1 === true ? 1 : pm.bitsAllocated)
  meta.photometric = first.finished.photometric
  if (encapsulated?.lossy === true || first.irreversible || first.finished.converted || photometric === 'YBR_FULL_422' || ds.string('x00282110')?.trim() === '01') {
    meta.lossySource = true
  }
  if (frames === 1) {
    const mosaic = first.finished.image.components === 1 ? mosaicInfo(ds) : undefined
    if (mosaic != null) return [demosaic(label, ds, first.finished.image, meta, mosaic)]
    return [{ kind: 'image', image: first.finished.image, meta }]
  }
  const next = async (i: number): Promise<RasterImage> => (await frame(i)).finished.image
  const enhanced = isEnhancedMultiFrame(ds, frames) ? enhancedVolumes(label, ds, meta, frames, first.finished.image, next) : undefined
  return enhanced ?? [multiFrameVolume(ds, meta, first.finished.image, frames, next)]
}

function nativeFrames (label: string, ds: DataSet, pm: PixelModule, photometric: string, frames: number, what: string, palette?: Palette): (i: number) => Promise<Decoded> {
  const pixel = ds.elements.x7fe00010
  if (pm.packed1 === true) {
    const bytes = ds.byteArray.subarray(pixel.dataOffset, pixel.dataOffset + Math.min(pixel.length, ds.byteArray.length - pixel.dataOffset))
    const pixels = pm.rows * pm.columns
    if (Math.ceil(pixels * frames / 8) > bytes.length) {
      throw new InvalidInputError(`${label}: truncated: DICOM header says ${what} (${Math.ceil(pixels * frames / 8)} bytes) but the pixel data holds ${Math.max(bytes.length, 0)}`)
    }
    return async (i) => {
      const unpacked = unpackBits(bytes, pixels, i) as Uint8Array
      return { finished: finishFrame(label, pm, photometric, nativeRawFrame(label, pm, photometric, unpacked), palette), irreversible: false }
    }
  }
  const frameBytes = nativeFrameBytes(pm, photometric)
  const available = Math.min(pixel.length, ds.byteArray.length - pixel.dataOffset)
  if (available < frameBytes * frames) {
    throw new InvalidInputError(`${label}: truncated: DICOM header says ${what} (${frameBytes * frames} bytes) but the pixel data holds ${Math.max(available, 0)}`)
  }
  return async (i) => {
    const bytes = ds.byteArray.subarray(pixel.dataOffset + i * frameBytes, pixel.dataOffset + (i + 1) * frameBytes)
    return { finished: finishFrame(label, pm, photometric, nativeRawFrame(label, pm, photometric, bytes), palette), irreversible: false }
  }
}

function compressedFrames (label: string, ds: DataSet, pm: PixelModule, photometric: string, frames: number, palette: Palette | undefined, codec: Parameters<typeof decodeEncapsulatedFrame>[1]): (i: number) => Promise<Decoded> {
  const parts = encapsulatedFrames(label, ds, ds.elements.x7fe00010, frames, startsCodestream)
  return async (i) => {
    const { frame, irreversible } = await decodeEncapsulatedFrame(`${label} (frame ${i + 1})`, codec, parts[i], pm)
    const raw = { ...frame, shift: codec === 'rle' ? pm.highBit + 1 - pm.bitsStored : 0, colorTransformed: frame.colorTransformed === true }
    return { finished: finishFrame(label, pm, photometric, raw, palette), irreversible }
  }
}

/** Why a transfer syntax is refused, in words a user would agree with. */
function refusal (ts: string): string {
  if (['1.2.840.10008.1.2.4.100', '1.2.840.10008.1.2.4.101', '1.2.840.10008.1.2.4.102', '1.2.840.10008.1.2.4.103', '1.2.840.10008.1.2.4.104', '1.2.840.10008.1.2.4.105', '1.2.840.10008.1.2.4.106', '1.2.840.10008.1.2.4.107', '1.2.840.10008.1.2.4.108'].includes(ts)) {
    return 'it is lossy video (MPEG/H.264/HEVC), not a still image mist-p2p can publish'
  }
  if (ts === '1.2.840.10008.1.2.4.92' || ts === '1.2.840.10008.1.2.4.93') return 'JPEG 2000 Part 2 multi-component transforms have no decoder here; convert with `gdcmconv --raw` first'
  if (ts === '') return 'the file declares no transfer syntax'
  return 'no decoder for it is available to mist-p2p; convert with `gdcmconv --raw` first'
}
