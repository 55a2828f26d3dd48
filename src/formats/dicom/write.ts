/**
 * DICOM Part 10 writer for one resolution level: the level's HTJ2K lossless
 * codestream encapsulated under transfer syntax 1.2.840.10008.1.2.4.202 (HTJ2K
 * Lossless RPCL), explicit VR little endian, Secondary Capture SOP class.
 *
 * Only technical attributes are written (modality, pixel module, pixel spacing
 * of the level, rescale, orientation and position); patient and study
 * attributes of type 2 are present but empty, and every UID is fresh
 * (2.25.<random 128-bit decimal>), so nothing identifies the source.
 * A small explicit writer limited to these tags: no DICOM library is needed.
 */
import { createHash, randomBytes } from 'node:crypto'
import { InvalidInputError } from '../../errors.js'
import { ByteReader, SIZ, findSegment, parseMainHeader, readComponent, readSiz as readSizSegment } from '../../j2k/index.js'
import { j2kCoding } from './j2k-codestream.js'

/** HTJ2K Lossless RPCL. */
export const HTJ2K_LOSSLESS_RPCL = '1.2.840.10008.1.2.4.202'
/** Secondary Capture Image Storage. */
export const SECONDARY_CAPTURE = '1.2.840.10008.5.1.4.1.1.7'
const IMPLEMENTATION_CLASS_UID = '2.25.190622467315744306212461012451412317049'
const IMPLEMENTATION_VERSION = 'MIST_P2P_0_1'

/** What encodeDicomHTJ2K writes around a codestream. */
export interface DicomHTJ2KInput {
  /** A lossless HTJ2K codestream (RPCL, reversible 5/3) whose SIZ size is the image written. */
  codestream: Uint8Array
  modality?: string
  /** MONOCHROME1 / MONOCHROME2 for one component; three components are always RGB (written YBR_RCT when the codestream uses the colour transform). */
  photometric?: string
  /** [column spacing, row spacing] in mm, of the pixels written. */
  spacing?: [number, number]
  orientation?: number[]
  /** DICOM ImagePositionPatient of the first pixel written (mm, LPS). */
  position?: number[]
  rescale?: { slope: number, intercept: number }
  /** Shared by the slices of one volume; fresh when absent. */
  studyUid?: string
  seriesUid?: string
  /** SOPInstanceUID; fresh when absent. */
  sopInstanceUid?: string
  frameOfReferenceUid?: string
  instanceNumber?: number
  /** The pixels went through lossy compression before (LossyImageCompression 01). */
  lossySource?: boolean
  /** Geometry of a volume slice: SliceThickness/SpacingBetweenSlices. */
  sliceSpacing?: number
}

/** A fresh UID: 2.25 followed by the decimal value of a random 128-bit number (ISO/IEC 9834-8). */
export function freshUid (): string {
  return `2.25.${BigInt(`0x${randomBytes(16).toString('hex')}`).toString()}`
}

/**
 * A UID derived from `seed`: 2.25 followed by the decimal value of the first 128 bits of its
 * SHA-256. `get` names its DICOM outputs this way (seeded with the root CID, level and slice),
 * so fetching the same level again writes the same file.
 */
export function derivedUid (seed: string): string {
  return `2.25.${BigInt(`0x${createHash('sha256').update(seed).digest('hex').slice(0, 32)}`).toString()}`
}

/** A number as a DICOM decimal string (at most 16 characters). */
export function decimalString (x: number): string {
  if (!Number.isFinite(x)) throw new InvalidInputError(`DICOM decimal string: ${x} is not finite`)
  if (Object.is(x, -0)) x = 0
  let s = String(x)
  for (let p = 15; s.length > 16 && p > 0; p--) s = Number(x.toPrecision(p)).toString()
  for (let p = 10; s.length > 16 && p > 0; p--) s = x.toExponential(p)
  return s
}

interface Siz { width: number, height: number, components: number, precision: number, signed: boolean }

function readSiz (codestream: Uint8Array): Siz {
  const seg = findSegment(parseMainHeader(codestream), SIZ)
  if (seg == null) throw new InvalidInputError('encodeDicomHTJ2K: the codestream has no SIZ segment')
  // bounded to the segment: a SIZ shorter than its components claim is refused, not read past
  const r = new ByteReader(codestream.subarray(0, seg.end), 'encodeDicomHTJ2K')
  const siz = readSizSegment(r, seg.offset)
  const first = readComponent(r, siz, 0)
  for (let c = 1; c < siz.csiz; c++) {
    const { bits, signed } = readComponent(r, siz, c)
    if (bits !== first.bits || signed !== first.signed) throw new InvalidInputError('encodeDicomHTJ2K: components of different precision')
  }
  return { width: siz.xsiz - siz.x0, height: siz.ysiz - siz.y0, components: siz.csiz, precision: first.bits, signed: first.signed }
}

type Element = [tag: number, vr: string, value: Uint8Array]

const text = (s: string, pad = ' '): Uint8Array => Buffer.from(s.length % 2 === 1 ? s + pad : s, 'latin1')
const us = (...v: number[]): Uint8Array => { const b = Buffer.alloc(2 * v.length); v.forEach((x, i) => b.writeUInt16LE(x, 2 * i)); return b }
const ul = (v: number): Uint8Array => { const b = Buffer.alloc(4); b.writeUInt32LE(v); return b }
const ds = (...v: number[]): Uint8Array => text(v.map(decimalString).join('\\'))
const LONG_VRS = new Set(['OB', 'OW', 'OF', 'SQ', 'UT', 'UN', 'UC', 'UR', 'OD', 'OL', 'OV'])

function encodeElements (elements: Element[]): Buffer {
  const parts: Buffer[] = []
  for (const [tag, vr, value] of elements.sort((a, b) => a[0] - b[0])) {
    const long = LONG_VRS.has(vr)
    const head = Buffer.alloc(long ? 12 : 8)
    head.writeUInt16LE(tag >>> 16, 0)
    head.writeUInt16LE(tag & 0xffff, 2)
    head.write(vr, 4, 'latin1')
    if (long) head.writeUInt32LE(value.length, 8)
    else {
      if (value.length > 0xffff) throw new InvalidInputError(`encodeDicomHTJ2K: value of ${tag.toString(16)} too long`)
      head.writeUInt16LE(value.length, 6)
    }
    parts.push(head, Buffer.from(value))
  }
  return Buffer.concat(parts)
}

/** Encapsulated pixel data: empty basic offset table, one fragment (padded to even length), sequence delimiter. */
function encapsulate (codestream: Uint8Array): Buffer {
  const padded = codestream.length % 2 === 1 ? Buffer.concat([codestream, Buffer.alloc(1)]) : Buffer.from(codestream)
  const head = Buffer.alloc(12 + 8 + 8)
  head.writeUInt16LE(0x7fe0, 0); head.writeUInt16LE(0x0010, 2); head.write('OB', 4, 'latin1'); head.writeUInt32LE(0xffffffff, 8)
  head.writeUInt16LE(0xfffe, 12); head.writeUInt16LE(0xe000, 14); head.writeUInt32LE(0, 16) // basic offset table, empty
  head.writeUInt16LE(0xfffe, 20); head.writeUInt16LE(0xe000, 22); head.writeUInt32LE(padded.length, 24)
  const tail = Buffer.alloc(8)
  tail.writeUInt16LE(0xfffe, 0); tail.writeUInt16LE(0xe0dd, 2); tail.writeUInt32LE(0, 4)
  return Buffer.concat([head, padded, tail])
}

/** A DICOM Part 10 file holding the codestream as HTJ2K Lossless RPCL. */
export function encodeDicomHTJ2K (input: DicomHTJ2KInput): Uint8Array {
  const siz = readSiz(input.codestream)
  const { mct, reversible } = j2kCoding('encodeDicomHTJ2K', input.codestream)
  if (!reversible) throw new InvalidInputError('encodeDicomHTJ2K: the codestream is not reversible (lossless)')
  if (siz.components !== 1 && siz.components !== 3) throw new InvalidInputError(`encodeDicomHTJ2K: ${siz.components} components`)
  const sop = input.sopInstanceUid ?? freshUid()
  const bitsAllocated = siz.precision <= 8 ? 8 : 16
  const photometric = siz.components === 3
    ? (mct ? 'YBR_RCT' : 'RGB')
    : (input.photometric === 'MONOCHROME1' ? 'MONOCHROME1' : 'MONOCHROME2')
  const modality = input.modality != null && /^[A-Z0-9_ ]{1,16}$/.test(input.modality) ? input.modality.trim() : 'OT'
  const elements: Element[] = [
    [0x00080008, 'CS', text('DERIVED\\SECONDARY')],
    [0x00080016, 'UI', text(SECONDARY_CAPTURE, '\0')],
    [0x00080018, 'UI', text(sop, '\0')],
    [0x00080020, 'DA', new Uint8Array()],
    [0x00080030, 'TM', new Uint8Array()],
    [0x00080050, 'SH', new Uint8Array()],
    [0x00080060, 'CS', text(modality)],
    [0x00080064, 'CS', text('WSD')],
    [0x00080090, 'PN', new Uint8Array()],
    [0x00100010, 'PN', new Uint8Array()],
    [0x00100020, 'LO', new Uint8Array()],
    [0x00100030, 'DA', new Uint8Array()],
    [0x00100040, 'CS', new Uint8Array()],
    [0x0020000d, 'UI', text(input.studyUid ?? freshUid(), '\0')],
    [0x0020000e, 'UI', text(input.seriesUid ?? freshUid(), '\0')],
    [0x00200010, 'SH', new Uint8Array()],
    [0x00200011, 'IS', text('1')],
    [0x00200013, 'IS', text(String(input.instanceNumber ?? 1))],
    [0x00200020, 'CS', new Uint8Array()],
    [0x00280002, 'US', us(siz.components)],
    [0x00280004, 'CS', text(photometric)],
    [0x00280010, 'US', us(siz.height)],
    [0x00280011, 'US', us(siz.width)],
    [0x00280100, 'US', us(bitsAllocated)],
    [0x00280101, 'US', us(siz.precision)],
    [0x00280102, 'US', us(siz.precision - 1)],
    [0x00280103, 'US', us(siz.signed ? 1 : 0)],
    [0x00282110, 'CS', text(input.lossySource === true ? '01' : '00')]
  ]
  if (siz.components === 3) elements.push([0x00280006, 'US', us(0)])
  if (input.spacing != null) elements.push([0x00280030, 'DS', ds(input.spacing[1], input.spacing[0])])
  if (input.orientation?.length === 6 && input.position?.length === 3) {
    elements.push([0x00200037, 'DS', ds(...input.orientation)], [0x00200032, 'DS', ds(...input.position)], [0x00200052, 'UI', text(input.frameOfReferenceUid ?? freshUid(), '\0')])
  }
  if (input.sliceSpacing != null) elements.push([0x00180050, 'DS', ds(input.sliceSpacing)], [0x00180088, 'DS', ds(input.sliceSpacing)])
  if (input.rescale != null && siz.components === 1) {
    elements.push([0x00281052, 'DS', ds(input.rescale.intercept)], [0x00281053, 'DS', ds(input.rescale.slope)], [0x00281054, 'LO', text(modality === 'CT' ? 'HU' : 'US')])
  }
  const dataset = Buffer.concat([encodeElements(elements), encapsulate(input.codestream)])
  const metaBody = encodeElements([
    [0x00020001, 'OB', new Uint8Array([0, 1])],
    [0x00020002, 'UI', text(SECONDARY_CAPTURE, '\0')],
    [0x00020003, 'UI', text(sop, '\0')],
    [0x00020010, 'UI', text(HTJ2K_LOSSLESS_RPCL, '\0')],
    [0x00020012, 'UI', text(IMPLEMENTATION_CLASS_UID, '\0')],
    [0x00020013, 'SH', text(IMPLEMENTATION_VERSION)]
  ])
  const metaGroup = encodeElements([[0x00020000, 'UL', ul(metaBody.length)]])
  const preamble = Buffer.alloc(132)
  preamble.write('DICM', 128, 'latin1')
  return new Uint8Array(Buffer.concat([preamble, metaGroup, metaBody, dataset]))
}
