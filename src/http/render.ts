/**
 * `GET /mist/<root>[/<entry path>]?format=png|j2c|nii|npy[&level=K|&size=PX][&slice=z]`: one
 * output exactly as `mist-p2p get` writes it (the same retrieve and writers), written to a
 * private temporary file and then streamed with its Content-Length. The URL names content
 * (root CID, entry, level, format), so the response is immutable.
 */
import { createReadStream } from 'node:fs'
import { mkdtemp, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { ServerResponse } from 'node:http'
import { pipeline } from 'node:stream/promises'
import type { CID } from 'multiformats/cid'
import type { CodecPool } from '../codec/index.js'
import { HttpRequestError } from '../errors.js'
import { parseLevel, planEntry, planSlice, type LevelSelection } from '../level/index.js'
import type { BlockSource } from '../repo/index.js'
import { decodeImageLevel, retrieve } from '../retrieve/index.js'
import { writeImageOutput } from '../retrieve/output.js'
import type { AbortOptions } from '../types.js'
import { resolveTarget, sliceRoot } from './mist-json.js'
import { IMMUTABLE } from './respond.js'

export const RENDER_FORMATS = ['png', 'j2c', 'nii', 'npy'] as const
export type RenderFormat = typeof RENDER_FORMATS[number]

const CONTENT_TYPES: Record<RenderFormat, string> = {
  png: 'image/png',
  j2c: 'image/j2c',
  nii: 'application/octet-stream',
  npy: 'application/octet-stream'
}

export interface RenderOptions extends AbortOptions {
  pool?: CodecPool
}

/** The level selection of a render URL: `level=K|full` or `size=PX` (not both). */
function selection (url: URL): LevelSelection {
  const level = url.searchParams.get('level')
  const size = url.searchParams.get('size')
  if (level != null && size != null) throw new HttpRequestError(400, 'give level= or size=, not both')
  if (size != null) {
    if (!/^\d{1,6}$/.test(size) || Number(size) < 1) throw new HttpRequestError(400, `size=${size.slice(0, 20)}: expected a positive number of pixels`)
    return { size: Number(size) }
  }
  if (level != null) {
    try { return { level: parseLevel(level) } } catch (err: any) { throw new HttpRequestError(400, `level=${level.slice(0, 20)}: ${err.message}`) }
  }
  return {}
}

/** Writes the requested output into `dir`; returns its path and what names it. */
async function render (source: BlockSource, root: CID, path: string | undefined, format: RenderFormat, url: URL, dir: string, options: RenderOptions): Promise<{ file: string, tag: string, name: string }> {
  const sel = selection(url)
  const { target, name } = await resolveTarget(source, root, path, options)
  const zParam = url.searchParams.get('slice')
  const base = name.split('/').pop()!.replace(/[^\w.#-]/g, '_')
  if (zParam != null) {
    if (target.kind !== 'volume') throw new HttpRequestError(400, `${name} is not a volume: slice= applies to volumes`)
    if (!/^\d{1,10}$/.test(zParam)) throw new HttpRequestError(400, `slice=${zParam.slice(0, 20)}: expected a slice index`)
    const z = Number(zParam)
    const volume = await planEntry(source, { name, cid: target.cid, clamp: path != null, root: target }, sel, options)
    if (volume.kind !== 'volume') throw new HttpRequestError(500, `${name}: planned as ${volume.kind}`)
    const s = await sliceRoot(source, target, z, name, options)
    const image = await planSlice(source, volume, z, s.cid, options)
    const got = await decodeImageLevel(source, image, { pool: options.pool, signal: options.signal })
    const file = join(dir, `${base}-z${z}-L${image.level}.${format}`)
    await writeImageOutput(file, format, image.root, got, { pool: options.pool, signal: options.signal, write: { within: dir, overwrite: false }, uidSeed: `${s.cid}/L${image.level}` })
    return { file, tag: `${target.cid}.z${z}.L${image.level}.${format}`, name: `${base}-z${z}-L${image.level}.${format}` }
  }
  if (target.kind === 'volume' && format !== 'nii' && format !== 'npy') throw new HttpRequestError(400, `${name} is a volume: ${format} is one file per slice; ask for slice=z, or format=nii or npy for the whole volume`)
  if (target.kind === 'dataset') throw new HttpRequestError(400, `${root} is a dataset: render one entry, /mist/${root}/<entry path>?format=${format}`)
  const out = join(dir, `${base}.${format}`)
  const result = await retrieve(source, root, { ...sel, path, format, out, pool: options.pool, signal: options.signal })
  const o = result.outputs[0]
  if (o == null || o.paths.length !== 1) throw new HttpRequestError(500, `${name}: the output was not one file`)
  return { file: o.paths[0], tag: `${o.root}.L${o.level}.${format}`, name: `${base.replace(/\.(nii\.gz|nii|png|dcm|j2c)$/i, '')}-L${o.level}.${format}` }
}

/** Serves one rendered output, streamed from its temporary file, which is removed afterwards. */
export async function serveRender (res: ServerResponse, source: BlockSource, root: CID, path: string | undefined, url: URL, options: RenderOptions): Promise<void> {
  const format = url.searchParams.get('format') as RenderFormat
  if (!(RENDER_FORMATS as readonly string[]).includes(format)) throw new HttpRequestError(400, `format=${String(format).slice(0, 20)}: expected one of ${RENDER_FORMATS.join(', ')}`)
  const dir = await mkdtemp(join(tmpdir(), 'mist-http-'))
  try {
    const { file, tag, name } = await render(source, root, path, format, url, dir, options)
    const size = (await stat(file)).size
    res.statusCode = 200
    res.setHeader('Content-Type', CONTENT_TYPES[format])
    res.setHeader('Content-Length', size)
    res.setHeader('Cache-Control', IMMUTABLE)
    res.setHeader('Etag', `"${tag}"`)
    res.setHeader('Content-Disposition', `${format === 'png' ? 'inline' : 'attachment'}; filename="${name}"`)
    if (res.req.method === 'HEAD') { res.end(); return }
    await pipeline(createReadStream(file), res, { signal: options.signal })
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}
