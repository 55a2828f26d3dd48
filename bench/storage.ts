/**
 * 1. Storage, one copy: bytes mist-p2p stores (raw leaves + level files + roots, from a real repo
 * after `mist-p2p publish`, and per file from the same DAG builder) against the original files,
 * the uncompressed pixels, gzip -9 of those pixels (zlib level 9, the deflate of gzip -9),
 * classic lossless JPEG 2000 (opj_compress defaults = reversible 5/3, on a PGM of the same
 * pixels), and the usual practice: the original plus PNG copies area-averaged to 512/256/128 px.
 */
import { readdir, stat, writeFile, readFile, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { gzip as gzipCb } from 'node:zlib'
import { buildImageDag } from '../src/chunker/index.js'
import { CodecPool } from '../src/codec/index.js'
import { encodePng, readInputs } from '../src/formats/index.js'
import type { RasterImage } from '../src/types.js'
import { realFiles } from './data.js'
import { boxDown, mist, sh, toPgm, type Ctx } from './lib.js'

const MAX_SLICES = 6
const gzip = promisify(gzipCb)
/** Files measured at once (gzip runs on libuv's pool, opj_compress in its own process, encode on the codec pool). */
const FILES_AT_ONCE = 2

async function dirBytes (dir: string): Promise<number> {
  let n = 0
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true } as any) as any[]) {
    if (e.isFile()) n += (await stat(join(e.parentPath ?? e.path, e.name))).size
  }
  return n
}

function pyramidPng (img: RasterImage): number {
  let n = 0
  for (const target of [512, 256, 128]) {
    const f = Math.max(img.width, img.height) / target
    if (f <= 1) continue
    const k = 2 ** Math.round(Math.log2(f))
    const d = boxDown(img.data, img.width, img.height, k)
    const off = img.signed ? 32768 : 0
    const data = new Uint16Array(d.data.length)
    for (let i = 0; i < data.length; i++) data[i] = Math.round(d.data[i]) + off
    n += encodePng({ width: d.width, height: d.height, components: 1, bitsStored: img.signed ? 16 : Math.max(img.bitsStored, 9), signed: false, data }).byteLength
  }
  return n
}

export async function runStorage (ctx: Ctx): Promise<any> {
  const files = realFiles(ctx.quick)
  const pool = new CodecPool({ size: 2 })
  const rows: any[] = []
  const tmp = join(ctx.dir, 'storage')
  await rm(tmp, { recursive: true, force: true })
  await (await import('node:fs/promises')).mkdir(tmp, { recursive: true })
  let seq = 0
  const byIndex: any[] = []
  const measure = async (f: typeof files[number], index: number): Promise<void> => {
    let items
    try { items = await readInputs(f.path) } catch { return }
    const fileBytes = (await stat(f.path)).size
    const all: RasterImage[] = []
    for (const item of items) {
      if (item.kind === 'image') all.push(item.image)
      else for await (const s of item.slices()) all.push(s)
    }
    const images = all.filter(i => i.components === 1)
    if (images.length === 0) return
    const step = Math.max(1, Math.ceil(images.length / MAX_SLICES))
    const sample = images.filter((_, i) => i % step === 0)
    const share = sample.length / all.length
    const row = { file: f.path.split('/').pop(), modality: f.modality, images: all.length, sampled: sample.length, original: fileBytes * share, pixels: 0, raw: 0, gzip9: 0, opj: 0, mist: 0, pyramid: fileBytes * share }
    await Promise.all(sample.map(async img => {
      const raw = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)
      row.pixels += img.width * img.height
      row.raw += raw.byteLength
      // never `row.x += await …`: the left side is read before the await, so images measured
      // at once would lose each other's additions (the committed run of 2026-12-02 lost some opj bytes that way)
      const gz = (await gzip(raw, { level: 9 })).byteLength
      row.gzip9 += gz
      const cs = await pool.encode(img)
      const dag = await buildImageDag(cs, img, { sourceFormat: 'bench' } as any)
      row.mist += dag.blocks.reduce((n, b) => n + b.bytes.byteLength, 0)
      row.pyramid += pyramidPng(img)
      const name = join(tmp, `i${++seq}`)
      await writeFile(name + '.pgm', toPgm(img.data, img.width, img.height, img.signed ? 16 : Math.max(img.bitsStored, 8), img.signed))
      await sh('opj_compress', ['-i', name + '.pgm', '-o', name + '.j2k'])
      const j2k = (await stat(name + '.j2k')).size
      row.opj += j2k
      await rm(name + '.pgm'); await rm(name + '.j2k')
    }))
    byIndex[index] = row
  }
  try {
    let next = 0
    await Promise.all(Array.from({ length: FILES_AT_ONCE }, async () => {
      while (next < files.length) { const i = next++; await measure(files[i], i) }
    }))
    rows.push(...byIndex.filter(r => r != null))
  } finally {
    await pool.close()
  }
  // the real repo: publish the same files with the CLI, count the blockstore's bytes
  let repo: any = {}
  if (files.length > 0) {
    const r = join(ctx.dir, 'storage-repo')
    await mist(['init', '--repo', r, '--json'])
    const list = join(ctx.dir, 'storage-inputs')
    await (await import('node:fs/promises')).mkdir(list, { recursive: true })
    const names: string[] = []
    for (const [i, f] of files.entries()) { const n = join(list, `${i}-${f.path.split('/').pop()}`); await writeFile(n, await readFile(f.path)); names.push(n) }
    const pub = await mist(['publish', list, '--repo', r, '--json'], { allowFail: true })
    const doc = JSON.parse(pub.stdout)
    const published = new Set(doc.images.map((i: any) => i.path))
    let orig = 0
    for (const n of names) if (published.has(n)) orig += (await stat(n)).size
    repo = { files: published.size, images: doc.images.reduce((n: number, i: any) => n + i.images, 0), originalBytes: orig, blockBytes: await dirBytes(join(r, 'blocks')), ratio: 0 }
    repo.ratio = repo.blockBytes / repo.originalBytes
    await rm(r, { recursive: true, force: true }); await rm(list, { recursive: true, force: true })
  }
  const byModality: Record<string, any> = {}
  for (const row of rows) {
    const m = (byModality[row.modality] ??= { modality: row.modality, files: 0, images: 0, original: 0, raw: 0, gzip9: 0, opj: 0, mist: 0, pyramid: 0 })
    m.files++; m.images += row.sampled
    for (const k of ['original', 'raw', 'gzip9', 'opj', 'mist', 'pyramid']) m[k] += row[k]
  }
  const total: any = { modality: 'all', files: rows.length, images: 0, original: 0, raw: 0, gzip9: 0, opj: 0, mist: 0, pyramid: 0 }
  for (const m of Object.values(byModality)) for (const k of ['images', 'original', 'raw', 'gzip9', 'opj', 'mist', 'pyramid']) total[k] += m[k]
  const ratios = (m: any): any => ({ ...m, mistVsOriginal: m.mist / m.original, mistVsRaw: m.mist / m.raw, mistVsGzip9: m.mist / m.gzip9, mistVsOpj: m.mist / m.opj, mistVsPyramid: m.mist / m.pyramid })
  return { maxSlicesPerVolume: MAX_SLICES, byModality: Object.values(byModality).map(ratios).sort((a, b) => b.raw - a.raw), total: ratios(total), repo }
}
