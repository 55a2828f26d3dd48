/**
 * Benchmark inputs, generated deterministically and cached between runs:
 * - synthetic 12-bit radiograph-like images (smooth anatomy + noise), PNG 16-bit;
 * - an int16 CT-like NIfTI volume of N 256x256 slices;
 * - the pull dataset: the real fixtures plus the synthetic set, and the seeder repo it is published in.
 */
import { existsSync, readFileSync } from 'node:fs'
import { cp, mkdir, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodePng, writeNiftiStream } from '../src/formats/index.js'
import type { RasterImage } from '../src/types.js'
import { FIXTURES, mist, prng, type Ctx } from './lib.js'

/** A 12-bit chest-film-like image: soft body, two lung fields, ribs, noise (sigma ~ 6 DN). */
export function syntheticRadiograph (w: number, h: number, seed: number): RasterImage {
  const r = prng(seed)
  const data = new Uint16Array(w * h)
  const sx = 0.9 + 0.2 * r(); const sy = 0.9 + 0.2 * r(); const ph = r() * 6
  for (let y = 0; y < h; y++) {
    const v = (y / h - 0.5) * 2
    for (let x = 0; x < w; x++) {
      const u = (x / w - 0.5) * 2
      let s = 600 + 2200 * Math.exp(-((u / (0.85 * sx)) ** 4 + (v / (0.95 * sy)) ** 4))
      const lung = Math.exp(-(((Math.abs(u) - 0.38) / 0.22) ** 2 + ((v + 0.05) / 0.5) ** 2))
      s -= 1300 * lung
      s += 250 * lung * Math.max(0, Math.sin(v * 22 + ph + Math.abs(u) * 3)) ** 8
      const noise = (r() + r() + r() - 1.5) * 12
      data[y * w + x] = Math.max(0, Math.min(4095, Math.round(s + noise)))
    }
  }
  return { width: w, height: h, components: 1, bitsStored: 12, signed: false, data }
}

/** One int16 CT-like slice: body ellipse, organs varying with z, noise. */
export function syntheticCtSlice (n: number, z: number, nz: number, r: () => number): RasterImage {
  const data = new Int16Array(n * n)
  const t = z / nz
  for (let y = 0; y < n; y++) {
    const v = (y / n - 0.5) * 2
    for (let x = 0; x < n; x++) {
      const u = (x / n - 0.5) * 2
      let s = -1000
      if ((u / 0.8) ** 2 + (v / 0.6) ** 2 < 1) s = 40
      if (((u - 0.35) / 0.2) ** 2 + ((v + 0.1) / (0.25 + 0.1 * t)) ** 2 < 1) s = -800
      if (((u + 0.35) / 0.2) ** 2 + ((v + 0.1) / (0.3 - 0.1 * t)) ** 2 < 1) s = -820
      if ((u / 0.08) ** 2 + ((v - 0.4) / 0.08) ** 2 < 1) s = 700
      data[y * n + x] = Math.round(s + (r() + r() + r() - 1.5) * 20)
    }
  }
  return { width: n, height: n, components: 1, bitsStored: 16, signed: true, data }
}

export async function writeSynthetic (dir: string, count: number, size: number): Promise<void> {
  const done = join(dir, '.complete')
  if (existsSync(done)) return
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  for (let i = 0; i < count; i++) {
    await writeFile(join(dir, `synth-${String(i).padStart(4, '0')}.png`), encodePng(syntheticRadiograph(size, size, 1000 + i)))
  }
  await writeFile(done, '')
}

export async function writeVolume (path: string, slices: number, n = 256): Promise<void> {
  if (existsSync(path)) return
  const r = prng(7)
  const affine = [0.8, 0, 0, -100, 0, 0.8, 0, -100, 0, 0, 1.5, 0, 0, 0, 0, 1]
  // slice by slice (a 3000-slice volume is 393 MB)
  async function * gen (): AsyncGenerator<RasterImage> { for (let z = 0; z < slices; z++) yield syntheticCtSlice(n, z, slices, r) }
  await writeNiftiStream(path, { sourceFormat: 'nifti', dims: [n, n, slices], spacing: [0.8, 0.8, 1.5], affine, dtype: 'int16', nifti: { qformCode: 0, sformCode: 1, xyztUnits: 10 } }, gen())
}

export interface RealFile { path: string, modality: string, category: string }

/** Real fixture files from MANIFEST.tsv (quick: one of each of a few kinds). */
export function realFiles (quick: boolean): RealFile[] {
  const manifest = join(FIXTURES, 'MANIFEST.tsv')
  if (!existsSync(manifest)) return []
  const rows = readFileSync(manifest, 'utf8').trim().split('\n').slice(1).map(l => l.split('\t'))
  const all = rows.map(c => ({ path: join(FIXTURES, c[0]), category: c[1], modality: (c[2] || c[1]).split(' ')[0] })).filter(f => existsSync(f.path))
  if (!quick) return all
  const pick: RealFile[] = []
  for (const m of ['CT', 'MR', 'CR']) {
    const f = all.find(x => x.modality === m && x.category === 'DICOM' && !pick.includes(x))
    if (f != null) pick.push(f)
  }
  const png = all.find(x => x.category === 'PNG')
  if (png != null) pick.push(png)
  return pick
}

export interface Dataset {
  /** Directory holding exactly the published files (real/ copies and synth/). */
  dir: string
  root: string
  /** Files that were published (relative to dir), for the HTTP baseline. */
  files: string[]
  images: number
  entries: number
  seederRepo: string
  /** An empty getter repo with the same swarm key, copied for every pull. */
  getterTemplate: string
  publishWallMs: number
  publishRssKiB: number
  /** Per-level totals from the dataset root. */
  levels: Array<{ level: number, bytes: number, images: number }>
  items: any[]
}

/** Builds (or reuses) the pull dataset and publishes it into a fresh seeder repo. */
export async function pullDataset (ctx: Ctx): Promise<Dataset> {
  const synthCount = ctx.quick ? 40 : 400
  // 256x256: with 512x512 the full-level pulls (decode + write of every image, ~3 MB/s) alone took 6 min per link
  const synthSize = 256
  // full mode: every real DICOM and PNG fixture (the NIfTI volumes, ~1,000 slices of CT/MR, are
  // left to the storage and memory sections: they made the pulls run past the 15-minute budget)
  const dir = join(ctx.cache, ctx.quick ? 'ds-quick' : 'ds3')
  const synthDir = join(dir, 'synth')
  await writeSynthetic(synthDir, synthCount, synthSize)
  const realDir = join(dir, 'real')
  if (!existsSync(join(realDir, '.complete'))) {
    await rm(realDir, { recursive: true, force: true })
    for (const f of realFiles(ctx.quick).filter(x => ctx.quick || x.category !== 'NIfTI')) await cp(f.path, join(realDir, f.path.slice(FIXTURES.length + 1)), { recursive: false })
    await mkdir(realDir, { recursive: true })
    await writeFile(join(realDir, '.complete'), '')
  }
  const seederRepo = join(ctx.dir, 'seeder')
  await mist(['init', '--repo', seederRepo, '--json'])
  const getterTemplate = join(ctx.dir, 'getter-template')
  await mist(['init', '--repo', getterTemplate, '--swarm-key', join(seederRepo, 'swarm.key'), '--json'])
  const pub = await mist(['publish', dir, '--repo', seederRepo, '--json'], { meterDir: ctx.dir, allowFail: true })
  const doc = JSON.parse(pub.stdout)
  if (doc.root == null) throw new Error(`publish of the dataset failed: ${pub.stderr.slice(-2000)}`)
  const failed = new Set<string>(doc.failures.map((f: any) => f.path))
  const files = (await listFiles(dir)).filter(p => !failed.has(join(dir, p)) && !p.endsWith('.complete'))
  const info = JSON.parse((await mist(['info', doc.root, '--repo', seederRepo, '--json'])).stdout)
  return {
    dir,
    root: doc.root,
    files,
    images: doc.images.reduce((n: number, i: any) => n + i.images, 0),
    entries: doc.images.length,
    seederRepo,
    getterTemplate,
    publishWallMs: pub.wallMs,
    publishRssKiB: pub.meter?.maxRssKiB ?? NaN,
    levels: info.levels ?? info.root?.levels ?? [],
    items: doc.images
  }
}

export async function listFiles (dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? e.name : `${prefix}/${e.name}`
    if (e.isDirectory()) out.push(...await listFiles(dir, rel))
    else if (e.isFile()) out.push(rel)
  }
  return out.sort()
}
