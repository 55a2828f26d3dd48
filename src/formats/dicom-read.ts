/**
 * DICOM reader for single-frame native (uncompressed) pixel data: implicit
 * and explicit VR little endian, deflated explicit VR little endian and
 * explicit VR big endian, with or without the Part 10 preamble. Multi-frame
 * files become volumes (one slice per frame).
 */
import dicomParser, { type DataSet } from 'dicom-parser'
import { inflateRawSync } from 'node:zlib'
import { InvalidInputError, UnsupportedInputError } from '../errors.js'
import type { ImageMeta, InputItem, RasterImage } from '../types.js'
import { imageToVolumeMeta } from './image-to-volume.js'
import { checkDimensions } from './limits.js'
import { dicomImageMeta } from './dicom-meta.js'
import { unpackNativePixels, type PixelModule } from './dicom-pixels.js'
import { NATIVE_TRANSFER_SYNTAXES, transferSyntaxName } from './dicom-transfer-syntax.js'

/** Parses a DICOM file held in memory into an 'image' InputItem ('volume' when multi-frame). */
export function readDicomBytes (label: string, bytes: Uint8Array): InputItem {
  const { ds, ts } = parse(label, bytes)
  const syntax = NATIVE_TRANSFER_SYNTAXES[ts]
  if (syntax == null) {
    throw new UnsupportedInputError(`${label}: DICOM transfer syntax ${ts} (${transferSyntaxName(ts)}) is not supported yet`)
  }
  const pixel = ds.elements.x7fe00010
  if (pixel == null) throw new InvalidInputError(`${label}: DICOM file has no pixel data`)
  if (pixel.encapsulatedPixelData === true) {
    throw new InvalidInputError(`${label}: DICOM transfer syntax ${ts} (${syntax.name}) declares native pixel data but it is encapsulated`)
  }
  const framesText = ds.string('x00280008')
  const frames = framesText == null ? 1 : Number(framesText)
  if (!Number.isInteger(frames) || frames < 1) throw new InvalidInputError(`${label}: invalid DICOM NumberOfFrames "${framesText ?? ''}"`)
  const pm = pixelModule(label, ds, syntax.littleEndian)
  const frameBytes = checkDimensions(label, [pm.columns, pm.rows], pm.samplesPerPixel * pm.bitsAllocated / 8, `${pm.columns}x${pm.rows}x${pm.samplesPerPixel} ${pm.bitsAllocated}-bit`)
  const what = `${pm.columns}x${pm.rows}x${pm.samplesPerPixel}${frames > 1 ? ` x ${frames} frames` : ''} ${pm.bitsAllocated}-bit`
  const totalBytes = checkDimensions(label, [pm.columns, pm.rows, frames], pm.samplesPerPixel * pm.bitsAllocated / 8, what)
  const available = Math.min(pixel.length, ds.byteArray.length - pixel.dataOffset)
  if (available < totalBytes) {
    throw new InvalidInputError(`${label}: truncated: DICOM header says ${what} (${totalBytes} bytes) but the pixel data holds ${Math.max(available, 0)}`)
  }
  const frame = (i: number): RasterImage => unpackNativePixels(pm, ds.byteArray.subarray(pixel.dataOffset + i * frameBytes, pixel.dataOffset + (i + 1) * frameBytes))
  const meta = dicomImageMeta(ds, ts, pm.bitsAllocated)
  if (frames === 1) return { kind: 'image', image: frame(0), meta }
  return multiFrameVolume(label, ds, meta, pm, frames, frame)
}

/** A multi-frame image as a volume: one slice per frame, geometry from the top-level attributes. */
function multiFrameVolume (label: string, ds: DataSet, meta: ImageMeta, pm: PixelModule, frames: number, frame: (i: number) => RasterImage): InputItem {
  if (pm.samplesPerPixel !== 1) throw new UnsupportedInputError(`${label}: multi-frame colour DICOM is not supported yet`)
  const first = frame(0)
  const volume = imageToVolumeMeta(first, meta)
  const dz = Number(ds.string('x00180088') ?? ds.string('x00180050') ?? '1')
  const sz = Number.isFinite(dz) && dz > 0 ? dz : 1
  volume.dims = [pm.columns, pm.rows, frames]
  volume.spacing = [volume.spacing[0], volume.spacing[1], sz]
  for (const r of [0, 1, 2]) volume.affine[4 * r + 2] *= sz
  volume.sourceFormat = 'dicom'
  return {
    kind: 'volume',
    meta: volume,
    sliceCount: frames,
    slices: async function * () {
      yield first
      for (let i = 1; i < frames; i++) yield frame(i)
    }
  }
}

function parse (label: string, bytes: Uint8Array): { ds: DataSet, ts: string } {
  const hasPreamble = bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM'
  const options: dicomParser.ParseDicomOptions = { inflater: inflate }
  if (!hasPreamble) {
    // Bare data set: explicit VR when bytes 4..5 are two capital letters.
    const explicit = bytes.length >= 6 && /^[A-Z]{2}$/.test(String.fromCharCode(bytes[4], bytes[5]))
    options.TransferSyntaxUID = explicit ? '1.2.840.10008.1.2.1' : '1.2.840.10008.1.2'
  }
  let ds: DataSet
  try {
    ds = dicomParser.parseDicom(bytes, options)
  } catch (err) {
    const inner = (err as { exception?: unknown }).exception ?? err
    const reason = inner instanceof Error ? inner.message : String(inner)
    const truncated = /end of buffer|overrun|past the end|beyond/i.test(reason)
    throw new InvalidInputError(`${label}: ${truncated ? 'truncated or ' : ''}corrupt DICOM: ${reason}`, { cause: err })
  }
  const declared = ds.string('x00020010')
  // A bare data set has no file meta group: use the syntax it was parsed with.
  const ts = (declared ?? options.TransferSyntaxUID ?? '').replace(/\0/g, '').trim()
  return { ds, ts }
}

/** Deflated transfer syntax: inflate everything after the file meta group. */
function inflate (arr: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(arr.subarray(position))
  const out = new Uint8Array(position + inflated.length)
  out.set(arr.subarray(0, position))
  out.set(inflated, position)
  return out
}

function pixelModule (label: string, ds: DataSet, littleEndian: boolean): PixelModule {
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
  if (bitsAllocated !== 8 && bitsAllocated !== 16) {
    throw new UnsupportedInputError(`${label}: DICOM BitsAllocated ${bitsAllocated} is not supported yet (8 or 16)`)
  }
  if (bitsStored < 1 || bitsStored > bitsAllocated || highBit < bitsStored - 1 || highBit >= bitsAllocated) {
    throw new InvalidInputError(`${label}: inconsistent DICOM pixel module: BitsAllocated ${bitsAllocated}, BitsStored ${bitsStored}, HighBit ${highBit}`)
  }
  if (samplesPerPixel === 1) {
    if (photometric !== 'MONOCHROME1' && photometric !== 'MONOCHROME2') {
      throw new UnsupportedInputError(`${label}: DICOM photometric interpretation ${photometric} is not supported yet`)
    }
  } else if (!(samplesPerPixel === 3 && photometric === 'RGB' && bitsAllocated === 8)) {
    throw new UnsupportedInputError(`${label}: DICOM ${samplesPerPixel}-sample ${bitsAllocated}-bit ${photometric} images are not supported yet (only 8-bit RGB)`)
  }
  return { rows, columns, samplesPerPixel, bitsAllocated, bitsStored, highBit, signed, planarConfiguration, littleEndian }
}
