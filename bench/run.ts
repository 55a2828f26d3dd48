/**
 * `npm run bench`: measures, for the built-in example data, what each resolution level
 * costs (bytes moved as a share of the full codestream, root and DAG nodes included)
 * and codec speed on one core and through the worker pool, against gzip -9 of the raw
 * pixels measured in the same run. Writes bench/results/latest.json and bench/RESULTS.md.
 *
 * `npm run bench -- --quick` uses smaller inputs and fewer repetitions (CI smoke use).
 */
import 'promise.withresolvers/auto'
import { mkdir, writeFile } from 'node:fs/promises'
import { cpus, totalmem } from 'node:os'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { buildImageDag } from '../src/chunker/index.js'
import { CodecPool, decodeHTJ2K, encodeHTJ2K } from '../src/codec/index.js'
import { radiographImage, sheppLoganVolume } from '../src/examples/index.js'
import type { ImageMeta, RasterImage } from '../src/types.js'

const quick = process.argv.includes('--quick')
const reps = quick ? 3 : 7

function median (xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)]
}

async function time (fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn() // warm-up: WASM compilation and heap growth are not part of the figure
  const times: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    await fn()
    times.push(performance.now() - t0)
  }
  return median(times)
}

function rawBytes (image: RasterImage): Uint8Array {
  return new Uint8Array(image.data.buffer, image.data.byteOffset, image.data.byteLength)
}

interface Case { name: string, image: RasterImage, meta: ImageMeta }

async function main (): Promise<void> {
  const radiograph = radiographImage(quick ? { width: 512, height: 512 } : {})
  const phantom = sheppLoganVolume(quick ? { size: 128, slices: 8 } : { size: 256, slices: 32 })
  const mid = phantom.slices[Math.floor(phantom.slices.length / 2)]
  const cases: Case[] = [
    { name: `radiograph ${radiograph.image.width}x${radiograph.image.height} u16 (12-bit)`, image: radiograph.image, meta: radiograph.meta },
    { name: `phantom slice ${mid.width}x${mid.height} i16`, image: mid, meta: { sourceFormat: 'synthetic', spacing: [phantom.meta.spacing[0], phantom.meta.spacing[1]] } }
  ]

  const results: any = { machine: { cpus: cpus().length, model: cpus()[0]?.model, memory: totalmem(), node: process.version }, quick, levels: [], speed: [] }
  for (const c of cases) {
    const codestream = await encodeHTJ2K(c.image)
    const dag = await buildImageDag(codestream, c.image, c.meta)
    const rootBytes = dag.blocks.find(b => b.cid.equals(dag.root))!.bytes.byteLength
    const full = dag.levels[dag.levels.length - 1].bytes
    for (const l of dag.levels) {
      results.levels.push({ case: c.name, level: l.level, width: l.width, height: l.height, bytes: l.bytes, withRoot: l.bytes + rootBytes, shareOfFull: l.bytes / full })
    }
    const raw = rawBytes(c.image)
    const mpx = (c.image.width * c.image.height) / 1e6
    const encodeMs = await time(async () => encodeHTJ2K(c.image))
    const decodeMs = await time(async () => decodeHTJ2K(codestream))
    const gzipMs = await time(() => gzipSync(raw, { level: 9 }))
    const gz = gzipSync(raw, { level: 9 }).byteLength
    const perLevelDecode = []
    for (let reduce = 1; reduce < dag.levels.length; reduce++) perLevelDecode.push({ reduce, ms: await time(async () => decodeHTJ2K(codestream, { reduce })) })
    results.speed.push({
      case: c.name,
      rawBytes: raw.byteLength,
      codestreamBytes: codestream.byteLength,
      gzip9Bytes: gz,
      htj2kVsGzip: codestream.byteLength / gz,
      encodeMs,
      decodeMs,
      gzip9Ms: gzipMs,
      encodeMpxPerS: mpx / (encodeMs / 1000),
      decodeMpxPerS: mpx / (decodeMs / 1000),
      encodeVsGzip9Speed: gzipMs / encodeMs,
      perLevelDecode
    })
  }

  // Worker pool over the phantom volume's slices: 1 worker against all cores.
  const slices = phantom.slices
  const poolRuns = []
  for (const size of [1, Math.max(1, cpus().length)]) {
    const pool = new CodecPool({ size })
    await Promise.all(slices.slice(0, size).map(async s => pool.encode(s)))
    const t0 = performance.now()
    await Promise.all(slices.map(async s => pool.encode(s)))
    const ms = performance.now() - t0
    await pool.close()
    poolRuns.push({ workers: size, images: slices.length, ms, imagesPerS: slices.length / (ms / 1000) })
  }
  results.pool = { runs: poolRuns, scaling: poolRuns[poolRuns.length - 1].imagesPerS / poolRuns[0].imagesPerS }

  await mkdir(join('bench', 'results'), { recursive: true })
  await writeFile(join('bench', 'results', 'latest.json'), JSON.stringify(results, null, 2) + '\n')
  const md = renderMarkdown(results)
  await writeFile(join('bench', 'RESULTS.md'), md)
  process.stdout.write(md)
}

function renderMarkdown (r: any): string {
  const lines = ['# Benchmark results', '', `Machine: ${r.machine.cpus} cores (${r.machine.model}), ${(r.machine.memory / 2 ** 30).toFixed(0)} GiB, Node ${r.machine.node}${r.quick ? ' — quick mode' : ''}. Reproduce: \`npm run bench${r.quick ? ' -- --quick' : ''}\`.`, '',
    '## Bytes per level (built-in examples)', '',
    'Bytes a getter moves for a level (its leaves plus the 2-byte EOC), and with the image root block added, as a share of the full level.', '',
    '| image | level | size | bytes | + root | share of full |', '|---|---:|---:|---:|---:|---:|']
  for (const l of r.levels) lines.push(`| ${l.case} | ${l.level} | ${l.width}x${l.height} | ${l.bytes} | ${l.withRoot} | ${(100 * l.shareOfFull).toFixed(2)} % |`)
  lines.push('', '## Codec speed, one core (medians)', '', '| image | raw bytes | HTJ2K bytes | gzip -9 bytes | HTJ2K / gzip size | encode Mpx/s | decode Mpx/s | encode speed vs gzip -9 |', '|---|---:|---:|---:|---:|---:|---:|---:|')
  for (const s of r.speed) lines.push(`| ${s.case} | ${s.rawBytes} | ${s.codestreamBytes} | ${s.gzip9Bytes} | ${s.htj2kVsGzip.toFixed(3)} | ${s.encodeMpxPerS.toFixed(1)} | ${s.decodeMpxPerS.toFixed(1)} | ${s.encodeVsGzip9Speed.toFixed(2)}x |`)
  lines.push('', 'Decode time at reduced levels (ms, medians):', '')
  for (const s of r.speed) lines.push(`- ${s.case}: full ${s.decodeMs.toFixed(2)}; ` + s.perLevelDecode.map((p: any) => `reduce ${p.reduce}: ${p.ms.toFixed(2)}`).join('; '))
  lines.push('', '## Worker pool (encode, phantom slices)', '', '| workers | images | ms | images/s |', '|---:|---:|---:|---:|')
  for (const p of r.pool.runs) lines.push(`| ${p.workers} | ${p.images} | ${p.ms.toFixed(0)} | ${p.imagesPerS.toFixed(1)} |`)
  lines.push('', `Scaling, all cores against one worker: ${r.pool.scaling.toFixed(2)}x.`, '')
  return lines.join('\n')
}

await main()
