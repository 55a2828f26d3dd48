/**
 * Small synthetic DICOM inputs of the kinds reference converters handle
 * specially: a classic MR series (with the position jitter scanners write, or
 * with a slice missing), an enhanced multi-frame MR with two stacks, and a
 * Siemens mosaic with its CSA header. Native explicit VR little endian, written
 * by a minimal encoder here (the project's DICOM writer only writes HTJ2K
 * Secondary Capture files, without sequences or private tags). Pixels come from
 * a seeded PRNG so every run writes the same bytes.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { mulberry32 } from '../../src/examples/prng.js'

type Value = string | number[] | Uint8Array | Element[][]
/** [tag, VR, value]: numbers for US/UL/SL/FD, a string for text VRs, bytes for OB/OW, items for SQ. */
type Element = [number, string, Value]

const LONG = new Set(['OB', 'OW', 'SQ', 'UN', 'UT', 'OF', 'OD', 'OL'])

function valueBytes (vr: string, v: Value): Buffer {
  if (vr === 'SQ') {
    const items = (v as Element[][]).map(item => {
      const body = encode(item)
      const head = Buffer.alloc(8)
      head.writeUInt16LE(0xfffe, 0); head.writeUInt16LE(0xe000, 2); head.writeUInt32LE(body.length, 4)
      return Buffer.concat([head, body])
    })
    return Buffer.concat(items)
  }
  if (v instanceof Uint8Array) return Buffer.from(v.length % 2 === 1 ? Buffer.concat([v, Buffer.alloc(1)]) : v)
  if (typeof v === 'string') return Buffer.from(v.length % 2 === 1 ? v + (vr === 'UI' ? '\0' : ' ') : v, 'latin1')
  const size = vr === 'FD' ? 8 : vr === 'US' ? 2 : 4
  const b = Buffer.alloc(size * v.length)
  v.forEach((x, i) => {
    if (vr === 'FD') b.writeDoubleLE(x, 8 * i)
    else if (vr === 'US') b.writeUInt16LE(x, 2 * i)
    else if (vr === 'SL') b.writeInt32LE(x, 4 * i)
    else b.writeUInt32LE(x, 4 * i)
  })
  return b
}

function encode (elements: Element[]): Buffer {
  const parts: Buffer[] = []
  // a later element of the same tag replaces an earlier one
  const byTag = new Map(elements.map(e => [e[0], e]))
  for (const [tag, vr, v] of [...byTag.values()].sort((a, b) => a[0] - b[0])) {
    const value = valueBytes(vr, v)
    const long = LONG.has(vr)
    const head = Buffer.alloc(long ? 12 : 8)
    head.writeUInt16LE(tag >>> 16, 0); head.writeUInt16LE(tag & 0xffff, 2); head.write(vr, 4, 'latin1')
    if (long) head.writeUInt32LE(value.length, 8)
    else head.writeUInt16LE(value.length, 6)
    parts.push(head, value)
  }
  return Buffer.concat(parts)
}

/** A Part 10 file of the elements (explicit VR little endian). */
export function dicomFile (sopClass: string, sopInstance: string, elements: Element[]): Buffer {
  const meta = encode([
    [0x00020001, 'OB', new Uint8Array([0, 1])],
    [0x00020002, 'UI', sopClass],
    [0x00020003, 'UI', sopInstance],
    [0x00020010, 'UI', '1.2.840.10008.1.2.1'],
    [0x00020012, 'UI', '2.25.1234567']
  ])
  const group = encode([[0x00020000, 'UL', [meta.length]]])
  const preamble = Buffer.alloc(132)
  preamble.write('DICM', 128, 'latin1')
  return Buffer.concat([preamble, group, meta, encode([...elements, [0x00080016, 'UI', sopClass], [0x00080018, 'UI', sopInstance]])])
}

const ds = (...v: number[]): string => v.map(x => String(Math.round(x * 1e6) / 1e6)).join('\\')

/** int16 pixels in -500..2500 from a seed. */
function pixels (count: number, seed: number): Int16Array {
  const r = mulberry32(seed)
  const out = new Int16Array(count)
  for (let i = 0; i < count; i++) out[i] = Math.floor(r() * 3000) - 500
  return out
}

const bytes = (a: Int16Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength)

const MR = '1.2.840.10008.5.1.4.1.1.4'
const ENHANCED_MR = '1.2.840.10008.5.1.4.1.1.4.1'
/**
 * Position offsets (mm) along the normal that scanners write: within +-0.07 mm, adjacent gaps
 * up to 0.0704 mm (1.006 %) off the 7 mm spacing, first and last slice exactly 19 x 7 mm apart.
 */
export const REALISTIC_JITTER = [0, 0.0704, 0.0704, 0, 0, -0.0704, -0.0704, 0, 0.0352, 0.07, 0.07, 0, -0.0352, -0.07, -0.07, 0, 0.0352, 0.0352, 0, 0]

/** Oblique (rotated ~10 degrees about x), as MR slices usually are. */
const ORIENTATION = [1, 0, 0, 0, Math.cos(0.17), -Math.sin(0.17)]
const NORMAL = [0, Math.sin(0.17), Math.cos(0.17)]

function pixelModule (cols: number, rows: number): Element[] {
  return [
    [0x00280002, 'US', [1]], [0x00280004, 'CS', 'MONOCHROME2'], [0x00280010, 'US', [rows]], [0x00280011, 'US', [cols]],
    [0x00280100, 'US', [16]], [0x00280101, 'US', [16]], [0x00280102, 'US', [15]], [0x00280103, 'US', [1]]
  ]
}

function common (series: string, seriesNumber: number): Element[] {
  return [
    [0x00080008, 'CS', 'ORIGINAL\\PRIMARY\\M\\ND'], [0x00080020, 'DA', '20240101'], [0x00080030, 'TM', '120000'], [0x00080060, 'CS', 'MR'],
    [0x00080070, 'LO', 'SYNTHETIC'], [0x0008103e, 'LO', 'synthetic'], [0x00100010, 'PN', 'Synthetic^Phantom'], [0x00100020, 'LO', 'SYN0001'],
    [0x00180050, 'DS', '5'], [0x0020000d, 'UI', '2.25.1001'], [0x0020000e, 'UI', series], [0x00200011, 'IS', String(seriesNumber)],
    [0x00200052, 'UI', '2.25.1002'], [0x00181030, 'LO', 'synthetic']
  ]
}

/**
 * A classic MR series, one file per slice (48x40 int16, oblique, ~7 mm apart, 5 mm thick):
 * `jitter` adds the given offset (mm) to each slice's position along the normal; `drop`
 * leaves out that slice (a missing file). Files are written in reverse slice order.
 */
export async function writeSeries (dir: string, options: { slices: number, spacing?: number, jitter?: number[], drop?: number, series?: string, seriesNumber?: number }): Promise<string[]> {
  await mkdir(dir, { recursive: true })
  const cols = 48; const rows = 40
  const spacing = options.spacing ?? 7
  const paths: string[] = []
  for (let k = options.slices - 1; k >= 0; k--) {
    if (k === options.drop) continue
    const d = k * spacing + (options.jitter?.[k] ?? 0)
    const position = [-120 + NORMAL[0] * d, -100 + NORMAL[1] * d, -30 + NORMAL[2] * d]
    const path = join(dir, `slice-${String(k).padStart(3, '0')}.dcm`)
    await writeFile(path, dicomFile(MR, `2.25.2${k}${options.seriesNumber ?? 1}`, [
      ...common(options.series ?? '2.25.1003', options.seriesNumber ?? 1), ...pixelModule(cols, rows),
      [0x00200013, 'IS', String(k + 1)], [0x00200032, 'DS', ds(...position)], [0x00200037, 'DS', ds(...ORIENTATION)],
      [0x00280030, 'DS', ds(0.9, 0.8)], [0x00281052, 'DS', '0'], [0x00281053, 'DS', '1'],
      [0x7fe00010, 'OW', bytes(pixels(cols * rows, 1000 + k))]
    ]))
    paths.push(path)
  }
  return paths
}

/**
 * An enhanced MR file with two stacks of `slices` frames (32x24 int16): two parallel oblique
 * slabs 4 mm apart within, the second 40 mm further along the normal and 5 mm to the side,
 * each with its own rescale; frames interleaved between the stacks and
 * stored in descending in-stack order, so only the functional groups put them in place.
 */
export async function writeEnhancedTwoStacks (path: string, slices = 5): Promise<void> {
  const cols = 32; const rows = 24
  const frames: Element[][] = []
  const data: Int16Array[] = []
  for (let k = slices - 1; k >= 0; k--) {
    for (const stack of [1, 2]) {
      const orientation = ORIENTATION
      const normal = NORMAL
      const step = 4
      const origin = stack === 1 ? [-60, -50, -10] : [-55, -50 + 40 * NORMAL[1], -10 + 40 * NORMAL[2]]
      const position = origin.map((v, i) => v + normal[i] * step * k)
      frames.push([
        [0x00209111, 'SQ', [[[0x00209056, 'SH', String(stack)], [0x00209057, 'UL', [k + 1]], [0x00209157, 'UL', [stack, k + 1]]]]],
        [0x00209113, 'SQ', [[[0x00200032, 'DS', ds(...position)]]]],
        [0x00209116, 'SQ', [[[0x00200037, 'DS', ds(...orientation)]]]],
        [0x00289145, 'SQ', [[[0x00281052, 'DS', stack === 1 ? '0' : '-100'], [0x00281053, 'DS', stack === 1 ? '1' : '0.5'], [0x00281054, 'LO', 'US']]]]
      ])
      data.push(pixels(cols * rows, 3000 + 10 * k + stack))
    }
  }
  const all = new Int16Array(data.length * cols * rows)
  data.forEach((d, i) => all.set(d, i * cols * rows))
  await writeFile(path, dicomFile(ENHANCED_MR, '2.25.3001', [
    ...common('2.25.3002', 7), ...pixelModule(cols, rows),
    [0x00280008, 'IS', String(frames.length)], [0x00200013, 'IS', '1'],
    [0x00209222, 'SQ', [
      [[0x00209165, 'AT', new Uint8Array([0x20, 0x00, 0x56, 0x90])], [0x00209167, 'AT', new Uint8Array([0x20, 0x00, 0x11, 0x91])]],
      [[0x00209165, 'AT', new Uint8Array([0x20, 0x00, 0x57, 0x90])], [0x00209167, 'AT', new Uint8Array([0x20, 0x00, 0x11, 0x91])]]
    ]],
    [0x52009229, 'SQ', [[[0x00289110, 'SQ', [[[0x00180050, 'DS', '3'], [0x00280030, 'DS', ds(1.5, 1.25)]]]]]]],
    [0x52009230, 'SQ', frames],
    [0x7fe00010, 'OW', bytes(all)]
  ]))
}

/** A CSA2 header holding the given elements (each a list of item strings). */
export function csaHeader (elements: Array<[string, string[]]>): Uint8Array {
  const parts: Buffer[] = []
  const head = Buffer.alloc(16)
  head.write('SV10', 0, 'latin1'); head.set([4, 3, 2, 1], 4); head.writeUInt32LE(elements.length, 8); head.writeUInt32LE(77, 12)
  parts.push(head)
  for (const [name, items] of elements) {
    const tag = Buffer.alloc(84)
    tag.write(name, 0, 'latin1'); tag.writeInt32LE(1, 64); tag.write('DS', 68, 'latin1'); tag.writeInt32LE(3, 72); tag.writeInt32LE(items.length, 76); tag.writeInt32LE(77, 80)
    parts.push(tag)
    for (const item of items) {
      const text = Buffer.from(item + '\0', 'latin1')
      const h = Buffer.alloc(16)
      h.writeInt32LE(text.length, 0); h.writeInt32LE(text.length, 4); h.writeInt32LE(77, 8); h.writeInt32LE(text.length, 12)
      parts.push(h, text, Buffer.alloc((4 - text.length % 4) % 4))
    }
  }
  return new Uint8Array(Buffer.concat(parts))
}

/**
 * A Siemens mosaic of `slices` 20x16 tiles (grid ceil(sqrt(slices)) per side) with
 * NumberOfImagesInMosaic and SliceNormalVector in its CSA header; `time` numbers the
 * acquisition (a series of mosaics is one file per time point) and changes the pixels.
 */
export async function writeMosaic (path: string, options: { slices: number, time?: number, series?: string }): Promise<void> {
  const tw = 20; const th = 16
  const grid = Math.ceil(Math.sqrt(options.slices))
  const cols = tw * grid; const rows = th * grid
  const t = options.time ?? 0
  const px = pixels(cols * rows, 5000 + t)
  // unused tiles are zero, as on the scanner
  for (let k = options.slices; k < grid * grid; k++) {
    for (let y = 0; y < th; y++) px.fill(0, ((Math.floor(k / grid) * th + y) * cols) + (k % grid) * tw, ((Math.floor(k / grid) * th + y) * cols) + (k % grid) * tw + tw)
  }
  const csa = csaHeader([['NumberOfImagesInMosaic', [String(options.slices)]], ['SliceNormalVector', NORMAL.map(v => v.toFixed(8))], ['AcquisitionMatrixText', ['20*16']]])
  await writeFile(path, dicomFile(MR, `2.25.4${t}`, [
    ...common(options.series ?? '2.25.4001', 9), ...pixelModule(cols, rows),
    [0x00080008, 'CS', 'ORIGINAL\\PRIMARY\\M\\ND\\MOSAIC'], [0x00080070, 'LO', 'SIEMENS'],
    [0x00180088, 'DS', '3.5'], [0x00200012, 'IS', String(t + 1)], [0x00200013, 'IS', String(t + 1)],
    [0x00200032, 'DS', ds(-200, -180, -20)], [0x00200037, 'DS', ds(...ORIENTATION)], [0x00280030, 'DS', ds(3, 3)],
    [0x00290010, 'LO', 'SIEMENS CSA HEADER'], [0x00291010, 'OB', csa],
    [0x7fe00010, 'OW', bytes(px)]
  ]))
}
