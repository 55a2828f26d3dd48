/**
 * Format detection from the first bytes of a file (never from the extension).
 */

/** Formats readInput can recognise. 'gzip' is a container: its content is sniffed again. */
export type SniffedFormat = 'png' | 'nifti' | 'dicom' | 'gzip'

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]

/** Returns the format of the bytes (the first 540 are enough), or undefined when unknown. */
export function sniffFormat (bytes: Uint8Array): SniffedFormat | undefined {
  if (bytes.length >= 8 && PNG_MAGIC.every((b, i) => bytes[i] === b)) return 'png'
  if (bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b) return 'gzip'
  if (isNifti(bytes)) return 'nifti'
  if (bytes.length >= 132 && ascii(bytes, 128, 4) === 'DICM') return 'dicom'
  if (looksLikeBareDicom(bytes)) return 'dicom'
  return undefined
}

function ascii (bytes: Uint8Array, offset: number, length: number): string {
  return String.fromCharCode(...bytes.subarray(offset, offset + length))
}

/** NIfTI-1 (sizeof_hdr 348, magic at 344) or NIfTI-2 (sizeof_hdr 540, magic at 4), either endianness. */
function isNifti (bytes: Uint8Array): boolean {
  if (bytes.length < 348) return false
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  const le = view.getInt32(0, true)
  const be = view.getInt32(0, false)
  if ((le === 348 || be === 348)) {
    const magic = ascii(bytes, 344, 4)
    return magic === 'n+1\0' || magic === 'ni1\0'
  }
  if ((le === 540 || be === 540)) {
    const magic = ascii(bytes, 4, 4)
    return magic === 'n+2\0' || magic === 'ni2\0'
  }
  return false
}

/**
 * A DICOM data set without the 128-byte preamble and "DICM": starts with a
 * little-endian tag of group 0002 or 0008 followed by an explicit VR or a
 * plausible implicit-VR length.
 */
function looksLikeBareDicom (bytes: Uint8Array): boolean {
  if (bytes.length < 8) return false
  const group = bytes[0] | (bytes[1] << 8)
  if (group !== 0x0002 && group !== 0x0008) return false
  const vr = ascii(bytes, 4, 2)
  if (/^[A-Z]{2}$/.test(vr)) return true
  const length = (bytes[4] | (bytes[5] << 8) | (bytes[6] << 16)) + bytes[7] * 2 ** 24
  return length < bytes.length
}
