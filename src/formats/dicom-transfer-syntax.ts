/**
 * DICOM transfer syntaxes: names for messages, and which ones the reader
 * handles (uncompressed pixel data) today.
 */

/** Transfer syntaxes with native (uncompressed) pixel data that readInput handles. */
export const NATIVE_TRANSFER_SYNTAXES: Record<string, { name: string, littleEndian: boolean }> = {
  '1.2.840.10008.1.2': { name: 'Implicit VR Little Endian', littleEndian: true },
  '1.2.840.10008.1.2.1': { name: 'Explicit VR Little Endian', littleEndian: true },
  '1.2.840.10008.1.2.1.99': { name: 'Deflated Explicit VR Little Endian', littleEndian: true },
  '1.2.840.10008.1.2.2': { name: 'Explicit VR Big Endian', littleEndian: false }
}

const COMPRESSED: Record<string, string> = {
  '1.2.840.10008.1.2.4.50': 'JPEG Baseline',
  '1.2.840.10008.1.2.4.51': 'JPEG Extended',
  '1.2.840.10008.1.2.4.57': 'JPEG Lossless',
  '1.2.840.10008.1.2.4.70': 'JPEG Lossless SV1',
  '1.2.840.10008.1.2.4.80': 'JPEG-LS Lossless',
  '1.2.840.10008.1.2.4.81': 'JPEG-LS Near-Lossless',
  '1.2.840.10008.1.2.4.90': 'JPEG 2000 Lossless',
  '1.2.840.10008.1.2.4.91': 'JPEG 2000',
  '1.2.840.10008.1.2.4.92': 'JPEG 2000 Part 2 Multi-component Lossless',
  '1.2.840.10008.1.2.4.93': 'JPEG 2000 Part 2 Multi-component',
  '1.2.840.10008.1.2.4.201': 'HTJ2K Lossless',
  '1.2.840.10008.1.2.4.202': 'HTJ2K Lossless RPCL',
  '1.2.840.10008.1.2.4.203': 'HTJ2K',
  '1.2.840.10008.1.2.5': 'RLE Lossless',
  '1.2.840.10008.1.2.4.100': 'MPEG2',
  '1.2.840.10008.1.2.4.102': 'MPEG-4 AVC/H.264',
  '1.2.840.10008.1.2.4.107': 'HEVC/H.265'
}

/** Human name of a transfer syntax UID ("unknown" when not listed). */
export function transferSyntaxName (uid: string): string {
  return NATIVE_TRANSFER_SYNTAXES[uid]?.name ?? COMPRESSED[uid] ?? 'unknown'
}
