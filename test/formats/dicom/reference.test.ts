/**
 * Independent check of the DICOM reader: for every DICOM fixture, the pixels
 * readInput publishes equal those of pydicom's pixel_array (pydicom 2.3; where
 * it has no decoder, `gdcmconv --raw` then pydicom; for HTJ2K, opj_decompress),
 * after the same published-form rules: bits above BitsStored masked and sign
 * extended, YBR_FULL converted to RGB, palettes expanded through their LUTs,
 * Siemens mosaics cut into their slices (nibabel's CSA reader gives the count).
 * Prints a table: file, transfer syntax, result.
 */
import { describe, it, expect } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { readInputs } from '../../../src/formats/index.js'
import type { InputItem } from '../../../src/types.js'
import { OPJ_DECOMPRESS, PYTHON_NIBABEL, REAL_FIXTURES } from '../../helpers/env.js'

/** Fixtures that must be refused, and the reason that must be given. */
const REFUSED: Record<string, RegExp> = {
  'github-cornerstone3D/CT0012.fragmented_no_bot_jpeg_baseline.51.dcm': /12-bit JPEG \(extended, lossy\) cannot be decoded/,
  'github-cornerstone3D/CTImage_JPEGExtended51.dcm': /12-bit JPEG \(extended, lossy\) cannot be decoded/,
  'github-pylibjpeg-data/RG2_JPLY.dcm': /12-bit JPEG \(extended, lossy\) cannot be decoded/
}
const LOSSY_SYNTAXES = ['1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.51', '1.2.840.10008.1.2.4.81', '1.2.840.10008.1.2.4.91']

const REFERENCE = `import sys, json, os, subprocess, tempfile, numpy as np, pydicom
from pydicom.pixel_data_handlers.util import apply_color_lut, convert_color_space
from pydicom.encaps import generate_pixel_data_frame
HTJ2K = ('1.2.840.10008.1.2.4.201', '1.2.840.10008.1.2.4.202', '1.2.840.10008.1.2.4.203')
out_dir = sys.argv[1]
opj = sys.argv[2]
work = tempfile.mkdtemp()

def opj_frames(ds):
    n = int(getattr(ds, 'NumberOfFrames', 1) or 1)
    arrs = []
    for i, f in enumerate(generate_pixel_data_frame(ds.PixelData, n)):
        src = os.path.join(work, 'f.j2c'); dst = os.path.join(work, 'f.rawl')
        open(src, 'wb').write(f)
        subprocess.run([opj, '-i', src, '-o', dst], check=True, capture_output=True)
        bs = int(ds.BitsStored); signed = int(ds.PixelRepresentation) == 1
        spp = int(ds.SamplesPerPixel)
        # opj raw: precision of the codestream, 1 byte up to 8 bits else 2, planar by component
        raw = open(dst, 'rb').read()
        per = len(raw) // (ds.Rows * ds.Columns * spp)
        dt = ('<i' if signed else '<u') + str(per)
        a = np.frombuffer(raw, dtype=dt).reshape(spp, ds.Rows, ds.Columns)
        a = np.moveaxis(a, 0, -1) if spp > 1 else a[0]
        arrs.append(a)
    return np.stack(arrs) if n > 1 else arrs[0]

def gdcm_raw(path):
    dst = os.path.join(work, 'raw.dcm')
    subprocess.run(['gdcmconv', '--raw', path, dst], check=True, capture_output=True)
    return pydicom.dcmread(dst)

res = []
for i, p in enumerate(sys.argv[3:]):
    d = pydicom.dcmread(p)
    ts = str(d.file_meta.TransferSyntaxUID)
    pi = str(d.PhotometricInterpretation)
    method = 'pydicom'
    a = None
    try:
        if ts not in HTJ2K: a = d.pixel_array
    except Exception as e:
        pass
    g = None
    if ts.startswith('1.2.840.10008.1.2.4') or ts == '1.2.840.10008.1.2.5':
        try:
            g = gdcm_raw(p).pixel_array
        except Exception:
            g = None
    if a is None and g is not None:
        a = g; method = 'gdcmconv --raw + pydicom'
    elif a is not None and g is not None and (a.shape != g.shape or not np.array_equal(a.astype(np.int64), g.astype(np.int64))):
        # pydicom 2.3 + Pillow offsets a signed JPEG 2000 codestream by 2^(bits-1) when PixelRepresentation is 0; GDCM keeps the stored bit pattern
        a = g; method = 'gdcmconv --raw + pydicom (pydicom+Pillow disagrees)'
    if a is None:
        if ts in HTJ2K or ts.startswith('1.2.840.10008.1.2.4.9'):
            a = opj_frames(d); method = 'opj_decompress'
        else:
            res.append({'error': 'no reference decoder'}); continue
    a = np.asarray(a)
    if pi == 'PALETTE COLOR':
        lut = apply_color_lut(a, d)
        bits = int(d.RedPaletteColorLookupTableDescriptor[2])
        a = (lut >> 8).astype('u1') if bits == 16 else lut.astype('u1'); method += ' + apply_color_lut'
        dt = 'u1'
    else:
        a = a.astype(np.int64)
        bs = int(d.BitsStored); a = a & ((1 << bs) - 1)
        if int(d.PixelRepresentation) == 1: a = np.where(a >= (1 << (bs - 1)), a - (1 << bs), a)
        dt = ('i' if int(d.PixelRepresentation) == 1 else 'u') + ('1' if bs <= 8 else '2')
        if pi in ('YBR_FULL', 'YBR_FULL_422') and int(d.SamplesPerPixel) == 3:
            a = convert_color_space(a.astype('u1'), 'YBR_FULL', 'RGB').astype(np.int64); method += ' + convert_color_space'
    # a Siemens mosaic is published as its slices: tile k of the ceil(sqrt(n)) grid is slice k (nibabel reads the CSA header)
    if 'MOSAIC' in [str(x).upper() for x in d.get('ImageType', [])]:
        from nibabel.nicom import csareader
        n = csareader.get_n_mosaic(csareader.get_csa_header(d, 'image'))
        if n is not None and n > 1:
            g = int(np.ceil(np.sqrt(n))); th, tw = a.shape[0] // g, a.shape[1] // g
            a = np.stack([a[(k // g) * th:(k // g + 1) * th, (k % g) * tw:(k % g + 1) * tw] for k in range(n)])
            method += ' + demosaic (nibabel CSA)'
    b = a.astype('<' + dt).tobytes()
    open(os.path.join(out_dir, f'{i}.bin'), 'wb').write(b)
    ids = [str(d.get(k, '')) for k in ('PatientName', 'PatientID', 'PatientBirthDate', 'InstitutionName', 'StudyInstanceUID', 'SeriesInstanceUID', 'SOPInstanceUID')]
    res.append({'method': method, 'shape': list(a.shape), 'ids': ids})
print(json.dumps(res))
`

/**
 * The published pixels of a file's items, frame by frame in the reference's frame order: an
 * enhanced multi-frame file's volumes hold its frames grouped and ordered along the normal
 * (their order against dcm2niix is checked in dicom-dcm2niix.test.ts), so each published slice
 * is matched to the reference frame with the same bytes, every frame used exactly once.
 */
async function pixelBytes (items: InputItem[], reference: Buffer): Promise<Buffer> {
  const slices: Buffer[] = []
  for (const item of items) {
    if (item.kind === 'image') slices.push(Buffer.from(item.image.data.buffer, item.image.data.byteOffset, item.image.data.byteLength))
    else for await (const s of item.slices()) slices.push(Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength))
  }
  if (slices.length < 2 || reference.length !== slices.reduce((n, s) => n + s.length, 0)) return Buffer.concat(slices)
  const size = slices[0].length
  const frames = Array.from({ length: reference.length / size }, (_, k) => reference.subarray(k * size, (k + 1) * size))
  const used = new Set<number>()
  const ordered: Buffer[] = new Array(frames.length)
  for (const s of slices) {
    const k = frames.findIndex((f, j) => !used.has(j) && Buffer.compare(f, s) === 0)
    if (k < 0) return Buffer.concat(slices)
    used.add(k)
    ordered[k] = s
  }
  return Buffer.concat(ordered)
}

/** Largest absolute difference, reading both buffers with the published sample type. */
function maxAbsDiff (item: InputItem, a: Buffer, b: Buffer): number {
  if (a.length !== b.length) return Infinity
  const sample = item.kind === 'image' ? item.image.data : undefined
  const signed = sample != null ? sample instanceof Int16Array || sample instanceof Int8Array : item.meta.dtype.startsWith('int')
  const wide = sample != null ? sample.BYTES_PER_ELEMENT === 2 : /16/.test(item.meta.dtype)
  const read = (buf: Buffer, i: number): number => wide ? (signed ? buf.readInt16LE(2 * i) : buf.readUInt16LE(2 * i)) : (signed ? buf.readInt8(i) : buf[i])
  let max = 0
  for (let i = 0; i < a.length / (wide ? 2 : 1); i++) max = Math.max(max, Math.abs(read(a, i) - read(b, i)))
  return max
}

describe.skipIf(REAL_FIXTURES == null || PYTHON_NIBABEL == null || OPJ_DECOMPRESS == null)('every DICOM fixture against pydicom / GDCM / OpenJPEG', () => {
  it('publishes the reference pixels or refuses with a specific reason', async () => {
    const root = REAL_FIXTURES as string
    const rows = readFileSync(join(root, 'MANIFEST.tsv'), 'utf8').split('\n').slice(1).map(l => l.split('\t')).filter(r => r[1] === 'DICOM')
    const dir = mkdtempSync(join(tmpdir(), 'mist-dicom-ref-'))
    try {
      const script = join(dir, 'ref.py')
      writeFileSync(script, REFERENCE)
      const refs = JSON.parse(execFileSync(PYTHON_NIBABEL as string, [script, dir, OPJ_DECOMPRESS as string, ...rows.map(r => join(root, r[0]))], { encoding: 'utf8', maxBuffer: 1 << 26 })) as Array<{ method?: string, ids?: string[], error?: string }>
      const table: string[][] = []
      let published = 0
      for (const [i, r] of rows.entries()) {
        const rel = r[0]
        const ts = r[6]
        let items: InputItem[]
        try {
          items = await readInputs(join(root, rel))
        } catch (err) {
          const e = err as Error
          table.push([rel, ts, `refused: ${e.message.slice(e.message.indexOf(': ') + 2)}`])
          expect.soft(REFUSED[rel], `${rel} was refused: ${e.message}`).toBeDefined()
          expect.soft(e.name).toBe('UnsupportedInputError')
          expect.soft(e.message).toMatch(REFUSED[rel])
          continue
        }
        expect.soft(REFUSED[rel], `${rel} should be refused`).toBeUndefined()
        const ref = refs[i]
        expect.soft(ref.error, `${rel}: no reference decoder: ${ref.error ?? ''}`).toBeUndefined()
        const item = items[0]
        const theirs = readFileSync(join(dir, `${i}.bin`))
        const mine = await pixelBytes(items, theirs)
        const same = Buffer.compare(mine, theirs) === 0
        const diff = same ? 0 : maxAbsDiff(item, mine, theirs)
        // Irreversible (9/7) wavelets are rounded differently by OpenJPH and OpenJPEG: allow 1 for lossy sources only.
        const ok = same || (item.meta.lossySource === true && diff <= 1)
        table.push([rel, ts, `${same ? 'identical' : `max |diff| ${diff}`} to ${ref.method ?? ''}${item.meta.lossySource === true ? ' (lossySource)' : ''}`])
        expect.soft(ok, `${rel}: pixels differ from ${ref.method ?? ''} by up to ${diff}`).toBe(true)
        const uid = ts.split(' ').pop() as string
        if (LOSSY_SYNTAXES.includes(uid)) expect.soft(item.meta.lossySource, `${rel}: lossy syntax`).toBe(true)
        const json = JSON.stringify(items.map(x => x.meta))
        for (const id of ref.ids ?? []) {
          for (const part of id.split(/[\^=]/).map(s => s.trim()).filter(s => s.length >= 4)) expect.soft(json, `${rel}: ${part}`).not.toContain(part)
        }
        published++
      }
      const width = Math.max(...table.map(t => t[0].length))
      const tsWidth = Math.max(...table.map(t => t[1].length))
      console.log(['file'.padEnd(width) + ' | ' + 'transfer syntax'.padEnd(tsWidth) + ' | result', ...table.map(t => `${t[0].padEnd(width)} | ${t[1].padEnd(tsWidth)} | ${t[2]}`)].join('\n'))
      expect(published).toBeGreaterThanOrEqual(rows.length - Object.keys(REFUSED).length)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
