/**
 * The HTTP baselines, as a separate getter process.
 *   files mode: what users do today — download every original file (8 connections, keep-alive),
 *     then decode each (once) and area-average it to the size mist-p2p would give for each --size, write PNGs;
 *     a size's time = decode + its own averaging and writing.
 *     node http-get.js files --url U --list FILE --out DIR --sizes 64,256,0   (0 = full: no downsampling)
 *   range mode: a Cornerstone-style progressive client — fixed 64 KiB Range requests of a J2C, one
 *     after another, until it holds `--until` bytes.  node http-get.js range --url U/x.j2c --until N
 */
import 'promise.withresolvers/auto'
import { Agent, request } from 'node:http'
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodePng, readInputs } from '../../src/formats/index.js'
import type { RasterImage } from '../../src/types.js'
import { boxDown } from '../lib.js'

const args = process.argv.slice(2)
const opt = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined }
const agent = new Agent({ keepAlive: true, maxSockets: 8 })

async function fetchBytes (url: string, range?: [number, number]): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: range != null ? { range: `bytes=${range[0]}-${range[1]}` } : {} }, res => {
      const parts: Buffer[] = []
      res.on('data', (d: Buffer) => parts.push(d))
      res.on('end', () => { if ((res.statusCode ?? 500) >= 300) reject(new Error(`${url}: HTTP ${res.statusCode}`)); else resolve(Buffer.concat(parts)) })
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end()
  })
}

/** The reduction mist-p2p's --size picks: the coarsest level whose longer side is >= size (sizes follow ceil(n / 2^r)). */
function reductionFor (w: number, h: number, size: number, maxReduce: number): number {
  if (size === 0) return 0
  let r = 0
  while (r < maxReduce && Math.max(Math.ceil(w / 2 ** (r + 1)), Math.ceil(h / 2 ** (r + 1))) >= size) r++
  return r
}

function toImage (src: RasterImage, d: { data: Float64Array, width: number, height: number }): RasterImage {
  const out = src.bitsStored <= 8 ? new Uint8Array(d.data.length) : new Uint16Array(d.data.length)
  const off = src.signed ? 32768 : 0
  for (let i = 0; i < out.length; i++) out[i] = Math.round(d.data[i]) + off
  return { width: d.width, height: d.height, components: 1, bitsStored: src.signed ? 16 : src.bitsStored, signed: false, data: out }
}

const mode = args[0]
if (mode === 'range') {
  const url = opt('url') as string
  const until = Number(opt('until'))
  const chunk = Number(opt('chunk') ?? 65536)
  const t0 = performance.now()
  let have = 0; let requests = 0
  if (chunk === 0) { have = (await fetchBytes(url)).byteLength; requests = 1 }
  while (chunk > 0 && have < until) {
    const got = await fetchBytes(url, [have, have + chunk - 1])
    requests++
    have += got.byteLength
    if (got.byteLength < chunk) break
  }
  process.stdout.write(JSON.stringify({ requests, bytes: have, ms: performance.now() - t0 }) + '\n')
} else {
  const url = opt('url') as string
  const files: string[] = JSON.parse(await readFile(opt('list') as string, 'utf8'))
  const out = opt('out') as string
  const sizes = (opt('sizes') ?? '0').split(',').map(Number)
  const maxReduce = Number(opt('max-reduce') ?? 6)
  await mkdir(out, { recursive: true })
  const t0 = performance.now()
  const bodies: Buffer[] = new Array(files.length)
  let next = 0
  let bytes = 0
  await Promise.all(Array.from({ length: 8 }, async () => {
    while (next < files.length) {
      const i = next++
      bodies[i] = await fetchBytes(`${url}/${files[i].split('/').map(encodeURIComponent).join('/')}`)
      bytes += bodies[i].byteLength
    }
  }))
  const downloadMs = performance.now() - t0
  const dl = join(out, 'files')
  for (let i = 0; i < files.length; i++) { await mkdir(join(dl, files[i], '..'), { recursive: true }); await writeFile(join(dl, files[i]), bodies[i]) }
  const saveMs = performance.now() - t0 - downloadMs
  // each original is read and decoded once; per size, the area-average and the PNG write are
  // timed on their own, and the size's time is decode + its own work (what a user who wants only
  // that size spends)
  const perSize = sizes.map(size => ({ size, ms: 0, ownMs: 0, images: 0, outBytes: 0 }))
  let decodeMs = 0
  for (let i = 0; i < files.length; i++) {
    const t1 = performance.now()
    const slices: RasterImage[] = []
    try {
      for (const item of await readInputs(join(dl, files[i]))) {
        if (item.kind === 'image') slices.push(item.image)
        else for await (const s of item.slices()) slices.push(s)
      }
    } catch { slices.length = 0 }
    decodeMs += performance.now() - t1
    for (const [z, s] of slices.entries()) {
      if (s.components !== 1) continue
      for (const row of perSize) {
        const t2 = performance.now()
        const r = reductionFor(s.width, s.height, row.size, maxReduce)
        const img = r === 0 ? s : toImage(s, boxDown(s.data, s.width, s.height, 2 ** r))
        const png = encodePng(img.signed ? toImage(img, { data: Float64Array.from(img.data), width: img.width, height: img.height }) : img)
        row.outBytes += png.byteLength
        await writeFile(join(out, `${i}-${z}-${row.size}.png`), png)
        row.images++
        row.ownMs += performance.now() - t2
      }
    }
  }
  for (const row of perSize) row.ms = decodeMs + row.ownMs
  await rm(out, { recursive: true, force: true })
  process.stdout.write(JSON.stringify({ files: files.length, bytes, downloadMs, saveMs, decodeMs, perSize }) + '\n')
}
agent.destroy()
