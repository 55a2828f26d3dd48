/**
 * Facts about a JPEG 2000 / HTJ2K frame that the DICOM reader needs: the bare
 * codestream (a JP2 file wrapper, which some DICOM writers emit, is removed),
 * whether the multi-component transform (MCT) is on, and whether the wavelet
 * is the reversible 5/3 one.
 */
import { InvalidInputError } from '../../errors.js'
import { ByteReader, COD, COD_FIXED_BYTES, SOC, findSegment, parseMainHeader, readCod } from '../../j2k/index.js'

/** The codestream inside a frame: the frame itself, or the content of the JP2 'jp2c' box. */
export function bareCodestream (label: string, frame: Uint8Array): Uint8Array {
  if (frame.length >= 2 && ((frame[0] << 8) | frame[1]) === SOC) return frame
  const view = new DataView(frame.buffer, frame.byteOffset, frame.byteLength)
  let at = 0
  while (at + 8 <= frame.length) {
    let size = view.getUint32(at)
    const type = String.fromCharCode(...frame.subarray(at + 4, at + 8))
    let header = 8
    if (size === 1) {
      if (at + 16 > frame.length) break // XLBox cut off: no box to read
      size = Number(view.getBigUint64(at + 8)); header = 16
    }
    if (size === 0) size = frame.length - at
    if (type === 'jp2c') return frame.subarray(at + header, at + size)
    if (size < header) break
    at += size
  }
  throw new InvalidInputError(`${label}: JPEG 2000 frame is neither a codestream (FF4F) nor a JP2 file with a codestream box`)
}

/** MCT flag and wavelet of the main header's COD segment. */
export function j2kCoding (label: string, codestream: Uint8Array): { mct: boolean, reversible: boolean } {
  let header
  try {
    header = parseMainHeader(codestream)
  } catch (err) {
    throw new InvalidInputError(`${label}: corrupt JPEG 2000 codestream: ${(err as Error).message}`, { cause: err })
  }
  const cod = findSegment(header, COD)
  if (cod == null || cod.length < 4 + COD_FIXED_BYTES) throw new InvalidInputError(`${label}: corrupt JPEG 2000 codestream: no COD segment`)
  const { mct, wavelet } = readCod(new ByteReader(codestream, label), cod.body) // inside the segment: cannot throw
  return { mct: mct === 1, reversible: wavelet === 1 }
}
