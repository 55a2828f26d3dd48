/**
 * 3. Codec and pipeline speed: HTJ2K encode/decode Mpx/s on one core (in process), decode at
 * each level, against opj_compress/opj_decompress (classic JPEG 2000 lossless, separate
 * processes: their start-up, measured on a 64x64 image, is subtracted) and gzip -9 / gunzip of the
 * raw pixels (zlib in process). Publish throughput (library publish() into a fresh repo) with a
 * CodecPool of one worker and of all cores.
 */
import { cpus } from 'node:os'
import { mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gunzipSync, gzipSync } from 'node:zlib'
import { CodecPool, decodeHTJ2K, defaultDecompositions, encodeHTJ2K } from '../src/codec/index.js'
import { encodePng, readInputs } from '../src/formats/index.js'
import { publish } from '../src/publish/index.js'
import { preloadImageTask } from '../src/publish/image-task.js'
import { Repo } from '../src/repo/index.js'
import type { RasterImage } from '../src/types.js'
import { realFiles, syntheticRadiograph } from './data.js'
import { median, ROOT, sh, timeMs, toPgm, type Ctx } from './lib.js'

async function opjTimes (ctx: Ctx, img: RasterImage, tag: string): Promise<{ encodeMs: number, decodeMs: number, bytes: number }> {
  const base = join(ctx.dir, `codec-${tag}`)
  await writeFile(base + '.pgm', toPgm(img.data, img.width, img.height, img.signed ? 16 : Math.max(8, img.bitsStored), img.signed))
  const enc: number[] = []; const dec: number[] = []
  for (let i = 0; i < ctx.reps + 1; i++) {
    enc.push((await sh('opj_compress', ['-i', base + '.pgm', '-o', base + '.j2k'])).ms)
    dec.push((await sh('opj_decompress', ['-i', base + '.j2k', '-o', base + '.out.pgm'])).ms)
  }
  const { size } = await (await import('node:fs/promises')).stat(base + '.j2k')
  return { encodeMs: median(enc.slice(1)), decodeMs: median(dec.slice(1)), bytes: size }
}

export async function runCodec (ctx: Ctx): Promise<any> {
  const reps = ctx.quick ? 3 : 7
  const cases: Array<{ name: string, image: RasterImage }> = [{ name: 'synthetic radiograph 512x512 12-bit', image: syntheticRadiograph(512, 512, 1) }]
  if (!ctx.quick) cases.push({ name: 'synthetic radiograph 2048x2048 12-bit', image: syntheticRadiograph(2048, 2048, 2) })
  const ct = realFiles(ctx.quick).find(f => f.modality === 'CT' && f.category === 'DICOM')
  if (ct != null) {
    try {
      const [item] = await readInputs(ct.path)
      const img = item.kind === 'image' ? item.image : undefined
      if (img != null) cases.push({ name: `real CT ${img.width}x${img.height} (${ct.path.split('/').pop()})`, image: img })
    } catch {}
  }
  // opj start-up cost, to subtract
  const tiny: RasterImage = { width: 64, height: 64, components: 1, bitsStored: 12, signed: false, data: new Uint16Array(64 * 64) }
  const opj0 = await opjTimes(ctx, tiny, 'tiny')
  const rows = []
  for (const c of cases) {
    const img = c.image
    const mpx = img.width * img.height / 1e6
    const cs = await encodeHTJ2K(img)
    const encodeMs = await timeMs(reps, async () => encodeHTJ2K(img))
    const decodeMs = await timeMs(reps, async () => decodeHTJ2K(cs))
    const raw = Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength)
    const gz = gzipSync(raw, { level: 9 })
    const gzipMs = await timeMs(reps, () => gzipSync(raw, { level: 9 }))
    const gunzipMs = await timeMs(reps, () => gunzipSync(gz))
    const levels = []
    const D = defaultDecompositions(img.width, img.height)
    for (let reduce = D; reduce >= 0; reduce--) {
      const ms = await timeMs(reps, async () => decodeHTJ2K(cs, { reduce }))
      levels.push({ reduce, width: Math.ceil(img.width / 2 ** reduce), height: Math.ceil(img.height / 2 ** reduce), ms })
    }
    const opj = await opjTimes(ctx, img, String(rows.length))
    const opjEnc = Math.max(1e-3, opj.encodeMs - opj0.encodeMs)
    const opjDec = Math.max(1e-3, opj.decodeMs - opj0.decodeMs)
    rows.push({
      case: c.name, mpx, htj2kBytes: cs.byteLength, opjBytes: opj.bytes, gzip9Bytes: gz.byteLength, rawBytes: raw.byteLength,
      encodeMs, decodeMs, gzipMs, gunzipMs, opjEncodeMs: opjEnc, opjDecodeMs: opjDec,
      encodeMpxs: mpx / (encodeMs / 1000), decodeMpxs: mpx / (decodeMs / 1000),
      opjEncodeMpxs: mpx / (opjEnc / 1000), opjDecodeMpxs: mpx / (opjDec / 1000),
      gzipMpxs: mpx / (gzipMs / 1000), gunzipMpxs: mpx / (gunzipMs / 1000),
      encodeVsOpj: opjEnc / encodeMs, decodeVsOpj: opjDec / decodeMs, encodeVsGzip: gzipMs / encodeMs, decodeVsGunzip: gunzipMs / decodeMs,
      levels
    })
    ctx.log(`  ${c.name}: encode ${(mpx / (encodeMs / 1000)).toFixed(1)} Mpx/s (${(opjEnc / encodeMs).toFixed(1)}x opj), decode ${(mpx / (decodeMs / 1000)).toFixed(1)} Mpx/s`)
  }

  // publish throughput: 1 worker against all cores
  const n = ctx.quick ? 16 : 48
  const side = 512
  const src = join(ctx.dir, 'publish-src')
  await mkdir(src, { recursive: true })
  for (let i = 0; i < n; i++) await writeFile(join(src, `p${i}.png`), encodePng(syntheticRadiograph(side, side, 5000 + i)))
  // the codec's own capacity with the same workers: the same images already decoded in memory, encoded
  // through the pool (no file, no PNG, no hashing): what publish could reach on this machine
  const decoded: RasterImage[] = []
  for (let i = 0; i < n; i++) decoded.push(syntheticRadiograph(side, side, 5000 + i))
  const runs = []
  for (const size of [1, Math.max(1, cpus().length)]) {
    const poolEncodeMpxs = n * side * side / 1e6 / (await poolEncodeMs(ctx, size, decoded) / 1000)
    const times: number[] = []
    for (let rep = 0; rep < ctx.reps; rep++) {
      const pool = new CodecPool({ size })
      await warmPool(pool)
      const path = join(ctx.dir, `publish-repo-${size}-${rep}`)
      const repo = await Repo.open({ path, create: true, command: 'bench' })
      const t0 = performance.now()
      const res = await publish([src], { repo, pool })
      times.push(performance.now() - t0)
      if (res.failures.length > 0) throw new Error(`publish failed: ${JSON.stringify(res.failures[0])}`)
      await repo.close(); await pool.close()
      await rm(path, { recursive: true, force: true })
    }
    const ms = median(times)
    const mpxPerS = n * side * side / 1e6 / (ms / 1000)
    // the goal of issue 12: publish at the codec's speed, the same 512x512 image's encode on one core times the workers
    runs.push({ workers: size, images: n, ms, imagesPerS: n / (ms / 1000), mpxPerS, ofCodec: mpxPerS / (rows[0].encodeMpxs * size), poolEncodeMpxs, ofPool: mpxPerS / poolEncodeMpxs })
  }
  await rm(src, { recursive: true, force: true })
  const series = await publishCtSeries(ctx)
  return { opjStartupMs: { encode: opj0.encodeMs, decode: opj0.decodeMs }, rows, publish: { runs, scaling: runs[runs.length - 1].imagesPerS / runs[0].imagesPerS, series } }
}

/**
 * The other publish goal of issue 12: an uncompressed DICOM CT series, against the encode Mpx/s of
 * one of its slices on one core times the workers. The series is made by pydicom from the fixtures'
 * uncompressed 512x512 CT slice (bench/tools/ct-series.py: one series, slices 1.25 mm apart, rows
 * rolled so each differs). Skipped without the fixtures or pydicom.
 */
async function publishCtSeries (ctx: Ctx): Promise<any> {
  const source = realFiles(false).find(f => f.path.endsWith('/uncompressed/CT1_UNC.dcm'))
  if (source == null) return { skipped: 'no uncompressed CT slice in the fixtures (MIST_REAL_FIXTURES)' }
  const count = ctx.quick ? 24 : 96
  const root = join(ctx.dir, 'ct-series-raw')
  await mkdir(join(root, 'ct'), { recursive: true })
  try {
    await sh(process.env.MIST_PYTHON_NIBABEL ?? 'python3', [join(ROOT, 'bench', 'tools', 'ct-series.py'), source.path, join(root, 'ct'), String(count)])
  } catch (err) {
    return { skipped: `pydicom could not write the series: ${(err as Error).message.slice(0, 200)}` }
  }
  const [first] = await readInputs(join(root, 'ct', 'slice-000.dcm'))
  if (first.kind !== 'image') return { skipped: 'the CT slice did not read as an image' }
  const slice = first.image
  const mpxSlice = slice.width * slice.height / 1e6
  const encodeMs = await timeMs(ctx.quick ? 3 : 7, async () => encodeHTJ2K(slice))
  const encodeMpxs = mpxSlice / (encodeMs / 1000)
  const size = Math.max(1, cpus().length)
  const poolEncodeMpxs = count * mpxSlice / (await poolEncodeMs(ctx, size, Array.from({ length: count }, () => slice)) / 1000)
  const times: number[] = []
  let volumes = 0
  for (let rep = 0; rep < ctx.reps; rep++) {
    const pool = new CodecPool({ size })
    await warmPool(pool)
    const path = join(ctx.dir, `publish-ct-${rep}`)
    const repo = await Repo.open({ path, create: true, command: 'bench' })
    const t0 = performance.now()
    const res = await publish([root], { repo, pool })
    times.push(performance.now() - t0)
    await repo.close(); await pool.close()
    await rm(path, { recursive: true, force: true })
    if (res.failures.length > 0) throw new Error(`CT series publish failed: ${JSON.stringify(res.failures[0])}`)
    volumes = res.items.filter(i => i.kind === 'volume').length
  }
  await rm(root, { recursive: true, force: true })
  const ms = median(times)
  const slices = count
  const mpxPerS = slices * mpxSlice / (ms / 1000)
  return { slices, volumes, width: slice.width, height: slice.height, workers: size, ms, mpxPerS, sliceEncodeMpxs: encodeMpxs, ofCodec: mpxPerS / (encodeMpxs * size), poolEncodeMpxs, ofPool: mpxPerS / poolEncodeMpxs }
}

/** Median ms for a pool of `size` started workers to encode `images` from memory: the codec's own throughput with those workers. */
async function poolEncodeMs (ctx: Ctx, size: number, images: RasterImage[]): Promise<number> {
  const times: number[] = []
  for (let rep = 0; rep < ctx.reps; rep++) {
    const pool = new CodecPool({ size })
    await warmPool(pool)
    const t0 = performance.now()
    await Promise.all(images.map(async img => pool.encode(img)))
    times.push(performance.now() - t0)
    await pool.close()
  }
  return median(times)
}

/**
 * Every worker started, its codec instantiated and publish's task module imported (what
 * publish preloads while it collects its inputs): start-up is not part of a throughput figure,
 * and the pool's and publish's figures start from the same warm workers.
 */
async function warmPool (pool: CodecPool): Promise<void> {
  preloadImageTask(pool)
  await Promise.all(Array.from({ length: pool.size }, async () => await pool.encode(syntheticRadiograph(64, 64, 1))))
}
