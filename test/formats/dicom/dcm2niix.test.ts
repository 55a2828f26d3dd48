/**
 * DICOM volumes as dcm2niix (the reference converter, MIST_DCM2NIIX) makes them. Every DICOM
 * series, series of mosaics, single mosaic and enhanced multi-frame file among the real fixtures
 * (found from MANIFEST.tsv with pydicom), and the synthetic cases of test/helpers/dicom-synth.ts,
 * is published, fetched with `retrieve --level full --format nii` and compared with a fresh
 * dcm2niix run and, for the dcm_qa validation sets, with the NIfTI files under their Ref/:
 * same shape, the same voxel-to-world map up to dcm2niix's axis order (corner voxels within
 * 1e-3 mm), equal world values (stored x scl_slope + scl_inter) voxel by voxel.
 * Deliberate differences, each said where it is checked: mist-p2p keeps the DICOM container
 * (uint16 for unsigned data, where dcm2niix writes int16), rows in DICOM order (dcm2niix flips
 * them), and DICOM's Rescale Slope/Intercept (dcm2niix's default for Philips is the private
 * floating-point scale; its `-p n` gives DICOM's, which is what the fresh run uses).
 */
import { execFile } from 'node:child_process'
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { basename, join } from 'node:path'
import { promisify } from 'node:util'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeVolumeRoot } from '../../../src/chunker/index.js'
import { publish, type PublishResult } from '../../../src/publish/index.js'
import { Repo } from '../../../src/repo/index.js'
import { retrieve } from '../../../src/retrieve/index.js'
import { compareWithDcm2niix, runDcm2niix, type Comparison } from '../../helpers/dcm2niix.js'
import { REALISTIC_JITTER, writeEnhancedTwoStacks, writeMosaic, writeSeries } from '../../helpers/dicom-synth.js'
import { DCM2NIIX, PYTHON_NIBABEL, REAL_FIXTURES } from '../../helpers/env.js'
import { tempDir } from '../../helpers/tmp.js'

const run = promisify(execFile)

/** Groups of DICOM fixtures as a converter sees them: per directory and SeriesInstanceUID. */
const CLASSIFY = `
import sys, os, csv, json, collections, pydicom
root = sys.argv[1]
rows = [r for r in csv.DictReader(open(os.path.join(root, 'MANIFEST.tsv')), delimiter='\\t') if r['category'] == 'DICOM']
groups = collections.OrderedDict()
out = []
nodecode = []
for r in rows:
    d = pydicom.dcmread(os.path.join(root, r['path']), stop_before_pixels=True, force=True)
    if str(d.file_meta.TransferSyntaxUID) in ('1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.81'): nodecode.append(r['path'])
    mosaic = 'MOSAIC' in [str(x).upper() for x in d.get('ImageType', [])]
    frames = int(d.get('NumberOfFrames', 1) or 1)
    pf = d.get('PerFrameFunctionalGroupsSequence')
    if frames > 1 and pf is not None and 'PlanePositionSequence' in pf[0]:
        out.append({"kind": "enhanced", "files": [r['path']]})
    elif frames == 1 and 'ImagePositionPatient' in d and 'ImageOrientationPatient' in d:
        groups.setdefault((os.path.dirname(r['path']), str(d.get('SeriesInstanceUID', '')), mosaic), []).append(r['path'])
for (dir, uid, mosaic), files in groups.items():
    kind = None
    if len(files) > 1:
        # one slice position per file makes a series; the same slice in several encodings does not
        hs = [pydicom.dcmread(os.path.join(root, f), stop_before_pixels=True) for f in files]
        pos = set(tuple(round(float(x), 3) for x in h.ImagePositionPatient) for h in hs)
        fmt = set((h.Rows, h.Columns, h.BitsStored, h.PixelRepresentation) for h in hs)
        copies = len(set(str(h.SOPInstanceUID) for h in hs)) < len(hs)
        kind = ("mosaics" if len(fmt) == 1 and not copies else "mixed") if mosaic else ("series" if len(pos) == len(files) else "repeated")
    # each mosaic of a series is compared as its time point; the first one also alone (the same
    # demosaicking, read from one file), which keeps the run short; mosaics of no series all alone
    if mosaic:
        for f in (files[:1] if kind == "mosaics" else files): out.append({"kind": "mosaic", "files": [f]})
    if kind is not None:
        out.append({"kind": kind, "files": files, "copies": copies})
print(json.dumps({"units": out, "nodecode": nodecode}))
`

/** Our volumes of a published unit, as NIfTI paths in item order. */
async function fetchNii (repo: Repo, res: PublishResult, out: string): Promise<string[]> {
  expect(res.failures).toEqual([])
  await mkdir(out, { recursive: true })
  // one item: its root is the item's own and `out` names the file
  const single = res.items.length === 1 && res.root?.equals(res.items[0].root) === true
  const got = await retrieve(repo, res.root as any, { out: single ? join(out, 'volume.nii') : out, level: 'full', format: 'nii' })
  const byName = new Map(got.outputs.map(o => [o.name, o.paths[0]]))
  if (res.items.length === 1 && got.outputs.length === 1) return [got.outputs[0].paths[0]]
  return res.items.map(i => byName.get(i.name) as string)
}

/** dcm2niix's volumes: one per output file, or the volumes of one 4D output. */
async function refVolumes (python: string, files: string[]): Promise<Array<{ path: string, t: number }>> {
  const kept = files.filter(f => !/_(Eq|Tilt|ROI)\d*_\d+\.nii$|_(Eq|Tilt)_\d+\.nii$/.test(f))
  if (kept.length !== 1) return kept.map(path => ({ path, t: 0 }))
  const { stdout } = await run(python, ['-c', 'import sys, nibabel; print(nibabel.load(sys.argv[1]).shape)', kept[0]])
  const shape = stdout.trim().replace(/[()\s]/g, '').split(',').filter(s => s !== '').map(Number)
  const n = shape.length > 3 ? shape[3] : 1
  return Array.from({ length: n }, (_, t) => ({ path: kept[0], t }))
}

/**
 * Datatypes that may differ, and why: mist-p2p keeps the DICOM container (PixelRepresentation 0 is
 * uint16) where dcm2niix writes int16 whenever the values fit; the 1-bit SEG masks are uint8 0/1 here
 * and in dcm2niix. The values are compared after this, so a differing dtype never hides a value.
 */
const DTYPE_DIFFERENCES = new Set(['uint16>int16'])

function expectSame (c: Comparison, what: string, opts: { values?: 'world' | 'stored' | 'low12', anyDtype?: boolean } = {}): void {
  expect(c.shape, `${what}: shape`).toEqual(c.refShape)
  if (opts.anyDtype !== true && c.dtype !== c.refDtype) expect(DTYPE_DIFFERENCES.has(`${c.dtype}>${c.refDtype}`), `${what}: dtype ${c.dtype}, dcm2niix ${c.refDtype}`).toBe(true)
  expect(c.grid, `${what}: our voxel grid is dcm2niix's up to axis order (axes ${JSON.stringify(c.axes)})`).toBe(true)
  expect(c.affineMm, `${what}: voxel-to-world map (mm)`).toBeLessThan(1e-3)
  if (opts.values === 'stored') expect(c.storedEqual, `${what}: stored values`).toBe(true)
  else if (opts.values === 'low12') {
    expect(c.equal, `${what}: values differ`).toBe(false)
    expect(c.equalMod4096, `${what}: the 12 stored bits agree`).toBe(true)
  }
  else expect(c.equal, `${what}: world values (max diff ${c.maxDiff})`).toBe(true)
}

describe.skipIf(REAL_FIXTURES == null || PYTHON_NIBABEL == null || DCM2NIIX == null)('DICOM volumes = dcm2niix', () => {
  let dir: string
  let cleanup: () => Promise<void>
  let repo: Repo
  let n = 0
  const fresh = (): string => join(dir, `u${n++}`)

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('mist-dcm2niix-'))
    repo = await Repo.open({ path: join(dir, 'repo'), create: true })
  })
  afterAll(async () => {
    await repo?.close()
    await cleanup?.()
  })

  /** Publishes `inputs`, converts `d2nInput` with dcm2niix, and compares every volume. */
  const compareUnit = async (what: string, inputs: string[], d2nInput: string, extra: string[] = [], refOf?: (path: string, refs: number) => number): Promise<{ ours: string[], refs: Array<{ path: string, t: number }>, res: PublishResult }> => {
    const res = await publish(inputs, { repo })
    expect(res.warnings, what).toEqual([])
    const ours = await fetchNii(repo, res, fresh())
    const refs = await refVolumes(PYTHON_NIBABEL as string, await runDcm2niix(DCM2NIIX as string, d2nInput, fresh(), extra))
    if (refOf == null) expect(ours.length, `${what}: number of volumes (ours ${res.items.map(i => i.name).join(', ')})`).toBe(refs.length)
    for (const [i, path] of ours.entries()) {
      const r = refs[refOf != null ? refOf(res.items[i].path, refs.length) : i]
      const c = await compareWithDcm2niix(PYTHON_NIBABEL as string, path, r.path, r.t)
      // 12bitSigned_0x0F0F holds bits above its 12 stored bits (0x0F0F): mist-p2p, like pydicom
      // and the standard, uses the 12 stored bits sign-extended (-241); dcm2niix keeps all 16 (3855)
      expectSame(c, `${what} volume ${i}`, { values: /12bitSigned_0x0F0F/.test(res.items[i].path) ? 'low12' : undefined })
    }
    return { ours, refs, res }
  }

  it('every real DICOM series, series of mosaics, mosaic and enhanced multi-frame file equals a fresh dcm2niix conversion', async () => {
    const F = REAL_FIXTURES as string
    const { stdout } = await run(PYTHON_NIBABEL as string, ['-c', CLASSIFY, F], { maxBuffer: 1 << 24 })
    const { units, nodecode } = JSON.parse(stdout) as { units: Array<{ kind: string, files: string[], copies?: boolean }>, nodecode: string[] }
    // Debian's dcm2niix is built without JPEG-LS ("recompile dcm2niix with JPEGLS support"): the two
    // JPEG-LS files of dcm_qa_ts hold the same pixels and header as its 1.dcm (explicit VR LE), so
    // dcm2niix's conversion of 1.dcm is their reference
    expect(nodecode).toEqual(expect.arrayContaining(['github-dcm_qa_ts/7.dcm', 'github-dcm_qa_ts/8.dcm']))
    const stand = (f: string): string => nodecode.includes(f) && f.startsWith('github-dcm_qa_ts/') ? 'github-dcm_qa_ts/1.dcm' : f
    const count = (k: string): number => units.filter(u => u.kind === k).length
    // the fixtures hold: the CT series, 3 mosaic series (dcm_qa_mosaic x2, dcm_qa_ts: 21 mosaics) and
    // dcm_qa_12bit's two mosaics of different pixel formats (5 mosaics compared alone), 8 enhanced
    // files, and groups of one series UID that are no volume
    expect({ series: count('series'), mosaics: count('mosaics'), mosaic: count('mosaic'), enhanced: count('enhanced'), mixed: count('mixed'), repeated: count('repeated') })
      .toEqual({ series: 1, mosaics: 3, mosaic: 5, enhanced: 8, mixed: 1, repeated: 3 })
    expect(units.filter(u => u.kind === 'mosaics').reduce((n, u) => n + u.files.length, 0)).toBe(21)
    const compared: string[] = []
    for (const unit of units) {
      const what = `${unit.kind} ${unit.files[0]}${unit.files.length > 1 ? ` (+${unit.files.length - 1})` : ''}`
      if (unit.kind === 'repeated' || unit.kind === 'mixed') {
        // the same slice in several encodings (transfer syntax test files), or two mosaics of one
        // series UID with different pixel formats (dcm_qa_12bit: signed and unsigned, one SOP
        // Instance UID): not one volume / time series, published file by file; a warning says why,
        // except for copies of one instance, which are no series to begin with
        const link = fresh()
        await mkdir(link)
        for (const f of unit.files) await copyFile(join(F, f), join(link, basename(f)))
        const res = await publish([link], { repo })
        expect(res.items.every(i => i.kind === (unit.kind === 'mixed' ? 'volume' : 'image')), what).toBe(true)
        expect(res.items.length + res.failures.length, what).toBe(unit.files.length)
        if (unit.copies === true && unit.kind === 'mixed') expect(res.warnings, what).toEqual([])
        else {
          expect(res.warnings, what).toHaveLength(1)
          expect(res.warnings[0].message, what).toMatch(/(differ in size or pixel format|share the position).*published one by one/)
        }
        continue
      }
      if (unit.kind === 'enhanced' && /CT0012\.fragmented/.test(unit.files[0])) {
        // dcm2niix cannot convert this one (JPEG baseline in 11 fragments: "decompress with gdcmconv");
        // the geometry is checked against pydicom in the next test instead
        continue
      }
      if (unit.kind === 'series' || unit.kind === 'mosaics') {
        const link = fresh()
        await mkdir(link)
        const d2n = fresh()
        await mkdir(d2n)
        for (const f of unit.files) {
          await copyFile(join(F, f), join(link, basename(f)))
          if (!nodecode.includes(f)) await copyFile(join(F, f), join(d2n, basename(f)))
        }
        // with files dcm2niix cannot decode (dcm_qa_ts: nine encodings of one image), dcm2niix converts
        // the others and each of our volumes is compared with the one of its file, or of 1.dcm
        const decodable = unit.files.filter(f => !nodecode.includes(f)).map(f => basename(f))
        const refOf = decodable.length < unit.files.length ? (path: string) => Math.max(0, decodable.indexOf(basename(path))) : undefined
        const { res } = await compareUnit(what, [link], d2n, [], refOf)
        if (unit.kind === 'mosaics') expect(res.items.map(i => i.name)).toEqual(unit.files.map((_, t) => `${basename(link)}#t${String(t).padStart(String(unit.files.length - 1).length, '0')}`))
      } else {
        // Philips: `-p n` makes dcm2niix use DICOM's Rescale Slope/Intercept, as mist-p2p does
        await compareUnit(what, [join(F, unit.files[0])], join(F, stand(unit.files[0])), ['-s', 'y', '-p', 'n'])
      }
      compared.push(what)
    }
    expect(compared.length).toBe(1 + 3 + 5 + 7)
  }, 600_000)

  it('equals the NIfTI files of the dcm_qa_enh and dcm_qa_mosaic validation sets (Ref/)', async () => {
    const F = REAL_FIXTURES as string
    const mosaic = join(F, 'github-dcm_qa_mosaic')
    for (const [series, ref] of [['ep2d_Asc_2', '2_ep2d_Asc.nii'], ['cmrr_Asc_6', '6_cmrr_Asc.nii']]) {
      const res = await publish([join(mosaic, 'In', series)], { repo })
      expect(res.items.map(i => i.name)).toEqual([0, 1, 2, 3, 4, 5].map(t => `${series}#t${t}`))
      const ours = await fetchNii(repo, res, fresh())
      for (const [t, path] of ours.entries()) expectSame(await compareWithDcm2niix(PYTHON_NIBABEL as string, path, join(mosaic, 'Ref', ref), t), `${series}#t${t} vs Ref/${ref}`)
    }
    // Siemens XA10: four enhanced files of one series, one time point each; Ref is the 4D series
    const enh = join(F, 'github-dcm_qa_enh')
    const xa = await publish([join(enh, 'In/Siemens/XA10')], { repo })
    expect(xa.warnings).toEqual([])
    expect(xa.items.map(i => [i.name, i.images, i.files])).toEqual([0, 1, 2, 3].map(t => [`XA10#t${t}`, 6, 1]))
    for (const [t, path] of (await fetchNii(repo, xa, fresh())).entries()) {
      expectSame(await compareWithDcm2niix(PYTHON_NIBABEL as string, path, join(enh, 'Ref/Siemens_REST1_w_SMS_PF7-8_6.nii'), t), `XA10#t${t} vs Ref[..., ${t}]`)
    }
    // Philips fieldmap: magnitude and field map are two volumes of one file
    const res = await publish([join(enh, 'In/Philips/IM_0027_fMAP.dcm')], { repo })
    expect(res.items.map(i => i.name)).toEqual(['IM_0027_fMAP.dcm#t0', 'IM_0027_fMAP.dcm#t1'])
    const ours = await fetchNii(repo, res, fresh())
    // Ref/ was made with dcm2niix's default Philips floating-point scaling (private (2005,100E)):
    // same stored values and geometry, world values a constant factor apart for the magnitude
    const e1 = await compareWithDcm2niix(PYTHON_NIBABEL as string, ours[0], join(enh, 'Ref/Philips_WIP_B0_NS_801_e1.nii'))
    expectSame(e1, 'Philips e1 vs Ref', { values: 'stored' })
    // Ref = stored / ScaleSlope, ours = stored x RescaleSlope (RS 1.27985, SS 8.44864e-6 in (2005,100E))
    expect(e1.ratio).toBeCloseTo(1 / (1.27985347985347 * 8.44864e-6), -1)
    expectSame(await compareWithDcm2niix(PYTHON_NIBABEL as string, ours[1], join(enh, 'Ref/Philips_WIP_B0_NS_801_e2_fieldmaphz.nii')), 'Philips e2 vs Ref', { values: 'stored' })
  }, 600_000)

  it('a series with the position jitter scanners write is one volume equal to dcm2niix\'s', async () => {
    const series = join(fresh(), 'jitter')
    await writeSeries(series, { slices: 20, jitter: REALISTIC_JITTER })
    const { res } = await compareUnit('jittered series', [series], series)
    expect(res.items).toHaveLength(1)
    expect(res.items[0]).toMatchObject({ name: 'jitter', kind: 'volume', images: 20, files: 20 })
  }, 120_000)

  it('a series with a missing slice is reported and published file by file, not interpolated', async () => {
    const series = join(fresh(), 'missing')
    await writeSeries(series, { slices: 12, drop: 5 })
    const res = await publish([series], { repo })
    expect(res.failures).toEqual([])
    expect(res.items).toHaveLength(11)
    expect(res.items.every(i => i.kind === 'image')).toBe(true)
    expect(res.warnings).toHaveLength(1)
    expect(res.warnings[0].path).toBe(series)
    expect(res.warnings[0].message).toMatch(/a gap of 14 mm where the slices are 7 mm apart \(about 1 missing slice\)/)
    expect(res.warnings[0].message).toMatch(/published one by one/)
    // dcm2niix warns too ("Interslice distance varies"), and writes an interpolated _Eq copy we do not make
    const files = await runDcm2niix(DCM2NIIX as string, series, fresh())
    expect(files.some(f => /_Eq_\d+\.nii$/.test(f))).toBe(true)
  }, 120_000)

  it('an enhanced multi-frame file with two stacks is two volumes placed by their plane positions', async () => {
    const path = join(fresh(), 'enhanced.dcm')
    await mkdir(join(path, '..'), { recursive: true })
    await writeEnhancedTwoStacks(path)
    const res = await publish([path], { repo })
    expect(res.items.map(i => [i.name, i.images])).toEqual([['enhanced.dcm#t0', 5], ['enhanced.dcm#t1', 5]])
    const ours = await fetchNii(repo, res, fresh())
    // dcm2niix makes one 4D file of the two stacks with stack 1's placement and SliceThickness
    // (3 mm) as the slice distance, so its geometry is not the reference here: each stack's
    // volume is checked against pydicom's reading of the plane positions, and its voxels against
    // the frames pydicom decodes
    const expected = fresh()
    await mkdir(expected)
    const { stdout } = await run(PYTHON_NIBABEL as string, ['-c', STACKS, path, expected], { maxBuffer: 1 << 24 })
    const stacks = JSON.parse(stdout) as string[]
    expect(stacks).toHaveLength(2)
    // (the expected files hold float64 world values)
    for (const [i, s] of stacks.entries()) expectSame(await compareWithDcm2niix(PYTHON_NIBABEL as string, ours[i], s), `stack ${i + 1} vs pydicom`, { anyDtype: true })
  }, 120_000)

  it('a series of mosaics is one volume per time point equal to dcm2niix\'s [..., t], also gzip-compressed', async () => {
    const series = join(fresh(), 'fmri')
    await mkdir(series, { recursive: true })
    for (let t = 0; t < 3; t++) await writeMosaic(join(series, `mosaic-${t}.dcm`), { slices: 10, time: t })
    const { res } = await compareUnit('mosaic series', [series], series)
    expect(res.items.map(i => [i.name, i.images, i.files])).toEqual([['fmri#t0', 10, 1], ['fmri#t1', 10, 1], ['fmri#t2', 10, 1]])
    // the same files as .dcm.gz: same roots (the volumes do not depend on the container)
    const gz = join(fresh(), 'fmri')
    await mkdir(gz, { recursive: true })
    for (let t = 0; t < 3; t++) await writeFile(join(gz, `mosaic-${t}.dcm.gz`), gzipSync(await readFile(join(series, `mosaic-${t}.dcm`))))
    const again = await publish([gz], { repo })
    expect(again.failures).toEqual([])
    expect(again.items.map(i => i.root.toString())).toEqual(res.items.map(i => i.root.toString()))
    // and one .dcm.gz file on its own is the volume of the .dcm file on its own
    const one = await publish([join(gz, 'mosaic-1.dcm.gz')], { repo })
    const plain = await publish([join(series, 'mosaic-1.dcm')], { repo })
    expect(one.items.map(i => [i.kind, i.images, i.root.toString()])).toEqual(plain.items.map(i => [i.kind, i.images, i.root.toString()]))
    expect(one.items[0].kind).toBe('volume')
  }, 120_000)

  it('reduced levels keep the geometry: in-plane voxel size x 2^(D-k), origin on the first original pixel', async () => {
    const F = REAL_FIXTURES as string
    const link = fresh()
    await mkdir(link)
    const ct = join(F, 'github-TotalSegmentator/example_ct_dicom')
    for (const f of await readdir(ct)) await copyFile(join(ct, f), join(link, f))
    const { res, ours } = await compareUnit('CT series', [link], link)
    const root = decodeVolumeRoot(await repo.get(res.items[0].root), res.items[0].root)
    const D = root.levels[root.levels.length - 1].level
    expect(D).toBe(3)
    const full = await niftiAffine(ours[0])
    for (let k = 0; k < D; k++) {
      const out = join(fresh(), 'level.nii')
      await mkdir(join(out, '..'), { recursive: true })
      await retrieve(repo, res.items[0].root, { out, level: k, format: 'nii' })
      const a = await niftiAffine(out)
      const f = 2 ** (D - k)
      const ny = Math.ceil(512 / f)
      // rows are written bottom-up (dcm2niix's layout), so the DICOM image's first pixel is
      // voxel (0, ny - 1, 0) at every level: the 5/3 low-pass sample n sits on original pixel
      // 2^(D-k) n, so sample 0 is on pixel 0 and both map to the same point
      const world = (m: number[][], v: number[]): number[] => [0, 1, 2].map(r => m[r][0] * v[0] + m[r][1] * v[1] + m[r][2] * v[2] + m[r][3])
      const first = world(a.affine, [0, ny - 1, 0])
      const firstFull = world(full.affine, [0, 511, 0])
      for (let r = 0; r < 3; r++) {
        expect(a.affine[r][0]).toBeCloseTo(full.affine[r][0] * f, 4)
        expect(a.affine[r][1]).toBeCloseTo(full.affine[r][1] * f, 4)
        expect(a.affine[r][2]).toBeCloseTo(full.affine[r][2], 4)
        expect(first[r]).toBeCloseTo(firstFull[r], 4)
      }
      expect(a.shape).toEqual([Math.ceil(512 / f), Math.ceil(512 / f), 20])
    }
  }, 300_000)
})

async function niftiAffine (path: string): Promise<{ affine: number[][], shape: number[] }> {
  const { stdout } = await run(PYTHON_NIBABEL as string, ['-c', 'import sys, json, nibabel; i = nibabel.load(sys.argv[1]); print(json.dumps({"affine": i.affine.tolist(), "shape": list(i.shape)}))', path])
  return JSON.parse(stdout)
}

/** Each stack of an enhanced file as pydicom reads it (frames grouped by StackID, ordered along the normal, world values, affine from the plane positions), written as NIfTI files. */
const STACKS = `
import sys, os, json, numpy as np, nibabel as nib, pydicom
d = pydicom.dcmread(sys.argv[1])
px = d.pixel_array
fr = d.PerFrameFunctionalGroupsSequence
stacks = {}
for i, f in enumerate(fr):
    stacks.setdefault(str(f.FrameContentSequence[0].StackID), []).append(i)
out = []
for k in sorted(stacks):
    o = np.array(fr[stacks[k][0]].PlaneOrientationSequence[0].ImageOrientationPatient, float)
    n = np.cross(o[:3], o[3:])
    idx = sorted(stacks[k], key=lambda i: float(np.dot(n, np.array(fr[i].PlanePositionSequence[0].ImagePositionPatient, float))))
    p = [np.array(fr[i].PlanePositionSequence[0].ImagePositionPatient, float) for i in idx]
    ps = [float(x) for x in d.SharedFunctionalGroupsSequence[0].PixelMeasuresSequence[0].PixelSpacing]
    pvt = fr[idx[0]].PixelValueTransformationSequence[0]
    lps = np.eye(4)
    lps[:3, 0] = o[:3] * ps[1]; lps[:3, 1] = o[3:] * ps[0]; lps[:3, 2] = p[1] - p[0]; lps[:3, 3] = p[0]
    world = np.stack([px[i].astype(float) * float(pvt.RescaleSlope) + float(pvt.RescaleIntercept) for i in idx], axis=-1).transpose(1, 0, 2)
    path = os.path.join(sys.argv[2], 'stack-%s.nii' % k)
    nib.save(nib.Nifti1Image(world, np.diag([-1, -1, 1, 1]) @ lps), path)
    out.append(path)
print(json.dumps(out))
`
