/**
 * One compressed DICOM frame to decoded samples, by the codec its transfer
 * syntax names: RLE (our Annex G decoder), JPEG 8-bit, JPEG lossless, JPEG-LS,
 * JPEG 2000 (third-party decoders, see image-decoders.ts) and HTJ2K (our own
 * src/codec decoder).
 */
import { getDefaultPool } from '../../codec/index.js'
import { InvalidInputError } from '../../errors.js'
import type { PixelCodec } from './transfer-syntax.js'
import type { PixelModule } from './pixels.js'
import { decodeRleFrame } from './rle.js'
import { decodeJ2k, decodeJpeg8, decodeJpegLossless, decodeJpegLs, type DecodedFrame } from './image-decoders.js'
import { bareCodestream, j2kCoding } from './j2k-codestream.js'
import { declaredFrameSize } from './frame-dims.js'

/** The decoded samples of one frame plus whether this codestream itself is irreversible (9/7 wavelet). */
export interface FrameResult { frame: DecodedFrame, irreversible: boolean }

/** Decodes one frame of encapsulated pixel data. */
export async function decodeEncapsulatedFrame (label: string, codec: PixelCodec, bytes: Uint8Array, pm: PixelModule): Promise<FrameResult> {
  // the decoders allocate for what the codestream declares: it must be what the DICOM header says
  const declared = declaredFrameSize(codec, codec === 'j2k' || codec === 'htj2k' ? bareCodestream(label, bytes) : bytes)
  if (declared != null && (declared.width !== pm.columns || declared.height !== pm.rows)) {
    throw new InvalidInputError(`${label}: the frame's codestream declares ${declared.width}x${declared.height} but the DICOM header says ${pm.columns}x${pm.rows}; refused before decoding`)
  }
  switch (codec) {
    case 'rle': {
      const data = decodeRleFrame(label, bytes, pm.rows, pm.columns, pm.samplesPerPixel, pm.bitsAllocated)
      return { frame: { width: pm.columns, height: pm.rows, components: pm.samplesPerPixel, bitsPerSample: pm.bitsAllocated, data, layout: 'interleaved' }, irreversible: false }
    }
    case 'jpeg': return { frame: await decodeJpeg8(label, bytes), irreversible: true }
    case 'jpeg-lossless': return { frame: await decodeJpegLossless(label, bytes), irreversible: false }
    case 'jpeg-ls': return { frame: await decodeJpegLs(label, bytes), irreversible: false }
    case 'j2k': {
      const cs = bareCodestream(label, bytes)
      const coding = j2kCoding(label, cs)
      return { frame: await decodeJ2k(label, cs, coding.mct), irreversible: !coding.reversible }
    }
    case 'htj2k': {
      const cs = bareCodestream(label, bytes)
      const coding = j2kCoding(label, cs)
      // in a codec worker: a hostile frame that would hang or trap OpenJPH is stopped after the pool's time limit
      const image = await getDefaultPool().decode(cs)
      const frame: DecodedFrame = { width: image.width, height: image.height, components: image.components, bitsPerSample: image.bitsStored, data: image.data as DecodedFrame['data'], layout: 'interleaved', colorTransformed: coding.mct && image.components === 3 }
      return { frame, irreversible: !coding.reversible }
    }
    default:
      throw new InvalidInputError(`${label}: unknown pixel codec ${String(codec)}`)
  }
}
