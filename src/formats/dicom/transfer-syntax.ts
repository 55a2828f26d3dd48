/**
 * DICOM transfer syntaxes: names for messages, which ones carry native pixel
 * data, and which decoder handles each encapsulated (compressed) one.
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

/** Decoder families for encapsulated pixel data. */
export type PixelCodec = 'rle' | 'jpeg' | 'jpeg-lossless' | 'jpeg-ls' | 'j2k' | 'htj2k'

/** An encapsulated syntax we decode: its codec, and whether the syntax itself implies lossy compression ('maybe' = may be lossy, check LossyImageCompression and the codestream). */
export interface EncapsulatedSyntax { name: string, codec: PixelCodec, lossy: boolean | 'maybe' }

/** Encapsulated (compressed) transfer syntaxes that the reader decodes. */
export const ENCAPSULATED_TRANSFER_SYNTAXES: Record<string, EncapsulatedSyntax> = {
  '1.2.840.10008.1.2.5': { name: 'RLE Lossless', codec: 'rle', lossy: false },
  '1.2.840.10008.1.2.4.50': { name: 'JPEG Baseline', codec: 'jpeg', lossy: true },
  '1.2.840.10008.1.2.4.51': { name: 'JPEG Extended', codec: 'jpeg', lossy: true },
  '1.2.840.10008.1.2.4.57': { name: 'JPEG Lossless', codec: 'jpeg-lossless', lossy: false },
  '1.2.840.10008.1.2.4.70': { name: 'JPEG Lossless SV1', codec: 'jpeg-lossless', lossy: false },
  '1.2.840.10008.1.2.4.80': { name: 'JPEG-LS Lossless', codec: 'jpeg-ls', lossy: false },
  '1.2.840.10008.1.2.4.81': { name: 'JPEG-LS Near-Lossless', codec: 'jpeg-ls', lossy: true },
  '1.2.840.10008.1.2.4.90': { name: 'JPEG 2000 Lossless', codec: 'j2k', lossy: false },
  '1.2.840.10008.1.2.4.91': { name: 'JPEG 2000', codec: 'j2k', lossy: true },
  '1.2.840.10008.1.2.4.201': { name: 'HTJ2K Lossless', codec: 'htj2k', lossy: false },
  '1.2.840.10008.1.2.4.202': { name: 'HTJ2K Lossless RPCL', codec: 'htj2k', lossy: false },
  '1.2.840.10008.1.2.4.203': { name: 'HTJ2K', codec: 'htj2k', lossy: 'maybe' }
}

/** Human name of a transfer syntax UID ("unknown" when not listed). */
export function transferSyntaxName (uid: string): string {
  return NATIVE_TRANSFER_SYNTAXES[uid]?.name ?? ENCAPSULATED_TRANSFER_SYNTAXES[uid]?.name ?? COMPRESSED[uid] ?? 'unknown'
}
