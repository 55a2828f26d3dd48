/**
 * Decompression bombs, small on disk and built without ever holding what they inflate to: a
 * deflate stream of N zero bytes is one compressed megabyte of zeros (ended by a full flush, so
 * it is byte-aligned and independent of what came before) repeated, plus a final empty block.
 */
import { writeFile } from 'node:fs/promises'
import { constants, crc32, deflateRawSync } from 'node:zlib'

const MIB = 1024 * 1024
const zeroMiB = Buffer.alloc(MIB)
const flushed = (bytes: Uint8Array): Buffer => deflateRawSync(bytes, { level: 9, finishFlush: constants.Z_FULL_FLUSH })

/** Raw deflate of `prefix` followed by `zeros` zero bytes. */
function deflateWithZeros (prefix: Uint8Array, zeros: number): Buffer {
  const parts: Buffer[] = []
  if (prefix.length > 0) parts.push(flushed(prefix))
  const seg = flushed(zeroMiB)
  for (let n = Math.floor(zeros / MIB); n > 0; n--) parts.push(seg)
  if (zeros % MIB > 0) parts.push(flushed(zeroMiB.subarray(0, zeros % MIB)))
  parts.push(deflateRawSync(Buffer.alloc(0))) // final empty block
  return Buffer.concat(parts)
}

function crcWithZeros (prefix: Uint8Array, zeros: number): number {
  let crc = crc32(prefix)
  for (let left = zeros; left > 0; left -= MIB) crc = crc32(zeroMiB.subarray(0, Math.min(MIB, left)), crc)
  return crc
}

function chunk (type: string, data: Uint8Array): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(data, crc32(Buffer.from(type, 'latin1'))) >>> 0)
  return Buffer.concat([head, data, crc])
}

/** An 8-bit gray PNG of side x side zeros (valid: filter bytes 0, zlib checksum right). */
export async function writePngBomb (path: string, side: number): Promise<void> {
  const raw = side * (side + 1)
  const adler = Buffer.alloc(4)
  adler.writeUInt32BE((((raw % 65521) << 16) | 1) >>> 0) // adler32 of zeros: a = 1, b = n mod 65521
  const idat = Buffer.concat([Buffer.from([0x78, 0xda]), deflateWithZeros(new Uint8Array(0), raw), adler])
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(side, 0)
  ihdr.writeUInt32BE(side, 4)
  ihdr[8] = 8; ihdr[9] = 0 // 8-bit gray
  await writeFile(path, Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', idat), chunk('IEND', new Uint8Array(0))]))
}

/** Explicit VR little endian element. */
function element (group: number, elem: number, vr: string, value: Buffer): Buffer {
  const long = ['OB', 'OW', 'UN', 'SQ', 'UT'].includes(vr)
  const head = Buffer.alloc(long ? 12 : 8)
  head.writeUInt16LE(group, 0); head.writeUInt16LE(elem, 2); head.write(vr, 4, 'latin1')
  if (long) head.writeUInt32LE(value.length, 8)
  else head.writeUInt16LE(value.length, 6)
  return Buffer.concat([head, value])
}
const us = (v: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b }
const ui = (s: string): Buffer => Buffer.from(s.length % 2 === 1 ? `${s}\0` : s, 'latin1')

/**
 * A Part 10 DICOM in the deflated transfer syntax whose data set (a 512x512 16-bit image
 * description, then a private OB element) inflates to `inflatedMiB` MiB, nearly all zeros.
 */
export async function writeDeflatedDicomBomb (path: string, inflatedMiB: number): Promise<void> {
  const metaBody = Buffer.concat([
    element(0x0002, 0x0001, 'OB', Buffer.from([0, 1])),
    element(0x0002, 0x0002, 'UI', ui('1.2.840.10008.5.1.4.1.1.7')),
    element(0x0002, 0x0003, 'UI', ui('1.2.3.4.5.6.7')),
    element(0x0002, 0x0010, 'UI', ui('1.2.840.10008.1.2.1.99'))
  ])
  const groupLength = Buffer.alloc(4)
  groupLength.writeUInt32LE(metaBody.length)
  const meta = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), element(0x0002, 0x0000, 'UL', groupLength), metaBody])
  const zeros = inflatedMiB * MIB
  const dataSet = Buffer.concat([
    element(0x0028, 0x0002, 'US', us(1)),
    element(0x0028, 0x0004, 'CS', Buffer.from('MONOCHROME2 ')),
    element(0x0028, 0x0010, 'US', us(512)),
    element(0x0028, 0x0011, 'US', us(512)),
    element(0x0028, 0x0100, 'US', us(16)),
    element(0x0028, 0x0101, 'US', us(16)),
    element(0x0028, 0x0102, 'US', us(15)),
    element(0x0028, 0x0103, 'US', us(0)),
    // a private OB holding the zeros: its header announces them
    Buffer.concat([Buffer.from([0x09, 0x00, 0x10, 0x10]), Buffer.from('OB\0\0', 'latin1'), (() => { const b = Buffer.alloc(4); b.writeUInt32LE(zeros - 512 * 512 * 2 - 12); return b })()])
  ])
  // the zeros end with (7FE0,0010) OW pixel data of 512x512x2 zero bytes
  const pixelHead = Buffer.alloc(12)
  pixelHead.writeUInt16LE(0x7fe0, 0); pixelHead.writeUInt16LE(0x0010, 2); pixelHead.write('OW', 4, 'latin1'); pixelHead.writeUInt32LE(512 * 512 * 2, 8)
  const parts: Buffer[] = [meta, flushed(dataSet)]
  const before = zeros - 512 * 512 * 2 - 12
  const seg = flushed(zeroMiB)
  for (let n = Math.floor(before / MIB); n > 0; n--) parts.push(seg)
  if (before % MIB > 0) parts.push(flushed(zeroMiB.subarray(0, before % MIB)))
  parts.push(flushed(pixelHead), flushed(Buffer.alloc(512 * 512 * 2)), deflateRawSync(Buffer.alloc(0)))
  await writeFile(path, Buffer.concat(parts))
}

/** A NIfTI-1 header (348 bytes + 4 extension bytes) for `dims` of datatype `code` (`bitpix` bits). */
function niftiHeader (dims: number[], code: number, bitpix: number): Buffer {
  const h = Buffer.alloc(352)
  h.writeInt32LE(348, 0)
  h.writeInt16LE(dims.length, 40)
  dims.forEach((d, i) => h.writeInt16LE(d, 42 + 2 * i))
  for (let i = dims.length + 1; i < 8; i++) h.writeInt16LE(1, 40 + 2 * i)
  h.writeInt16LE(code, 70)
  h.writeInt16LE(bitpix, 72)
  for (let i = 0; i < 8; i++) h.writeFloatLE(1, 76 + 4 * i)
  h.writeFloatLE(352, 108)
  h.write('n+1\0', 344, 'latin1')
  return h
}

/** A .nii.gz of zeros: `dims` (x, y[, z]) of NIfTI datatype `code` with `bytes` bytes per voxel. */
export async function writeNiftiGzBomb (path: string, dims: number[], code: number, bytes: number): Promise<void> {
  const header = niftiHeader(dims, code, bytes * 8)
  const zeros = dims.reduce((a, b) => a * b, 1) * bytes
  const trailer = Buffer.alloc(8)
  trailer.writeUInt32LE(crcWithZeros(header, zeros) >>> 0, 0)
  trailer.writeUInt32LE((header.length + zeros) % 2 ** 32, 4)
  await writeFile(path, Buffer.concat([Buffer.from([0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]), deflateWithZeros(header, zeros), trailer]))
}
