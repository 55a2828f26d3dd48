/**
 * The IPFS trustless gateway (specs.ipfs.tech/http-gateways/trustless-gateway): `GET|HEAD
 * /ipfs/<cid>` as one raw block (`application/vnd.ipld.raw`) or a CAR stream
 * (`application/vnd.ipld.car; version=1; order=dfs; dups=n`) with `dag-scope` and
 * `entity-bytes`. Every block comes from the node's store, verified against its CID, so a
 * client can check everything it receives.
 */
import type { IncomingMessage, ServerResponse } from 'node:http'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { varint } from 'multiformats'
import { HttpRequestError } from '../errors.js'
import { parseEntityBytes, walkCar, type DagScope, type EntityBytes } from './car-walk.js'
import { IMMUTABLE, writeChunk } from './respond.js'

export const RAW_TYPE = 'application/vnd.ipld.raw'
export const CAR_TYPE = 'application/vnd.ipld.car'
const CAR_RESPONSE_TYPE = `${CAR_TYPE}; version=1; order=dfs; dups=n`

export interface TrustlessContext {
  get: (cid: CID, options: { signal: AbortSignal }) => Promise<Uint8Array>
  /** Whether the block is on this node's disk (`Cache-Control: only-if-cached`). */
  has: (cid: CID) => Promise<boolean>
  signal: AbortSignal
}

interface MediaRange { type: string, params: Map<string, string>, q: number }

function parseAccept (header: string): MediaRange[] {
  const out: MediaRange[] = []
  for (const part of header.split(',').slice(0, 32)) {
    const [type, ...rest] = part.split(';').map(s => s.trim())
    if (type === '') continue
    const params = new Map<string, string>()
    for (const p of rest) {
      const eq = p.indexOf('=')
      if (eq > 0) params.set(p.slice(0, eq).trim().toLowerCase(), p.slice(eq + 1).trim().replace(/^"|"$/g, '').toLowerCase())
    }
    const q = params.has('q') ? Number(params.get('q')) : 1
    out.push({ type: type.toLowerCase(), params, q: Number.isFinite(q) ? q : 0 })
  }
  // highest preference first; equal ones keep the client's order
  return out.filter(m => m.q > 0).map((m, i) => ({ m, i })).sort((a, b) => b.m.q - a.m.q || a.i - b.i).map(x => x.m)
}

/** Whether a CAR variant the client asks for is one this gateway writes (CARv1, dfs order, no duplicates). */
function carVariantOk (params: Map<string, string>): boolean {
  const version = params.get('version')
  const order = params.get('order')
  const dups = params.get('dups')
  return (version == null || version === '1') && (order == null || order === 'dfs' || order === 'unk') && (dups == null || dups === 'n')
}

/** raw or car, from `format` (which wins) or `Accept`; 400/406 for anything else. */
function chooseFormat (url: URL, accept: string | undefined): 'raw' | 'car' {
  const format = url.searchParams.get('format')
  if (format != null) {
    if (format === 'raw') return 'raw'
    if (format === 'car') {
      const carParams = new Map<string, string>()
      for (const k of ['version', 'order', 'dups']) { const v = url.searchParams.get(`car-${k}`); if (v != null) carParams.set(k, v) }
      if (!carVariantOk(carParams)) throw new HttpRequestError(400, `${url.pathname}: only CAR version 1, order dfs (or unk) and dups n are served`)
      return 'car'
    }
    throw new HttpRequestError(400, `${url.pathname}: format=${format} is not served by this trustless gateway (raw or car)`)
  }
  if (accept == null || accept.trim() === '') throw new HttpRequestError(400, `${url.pathname}: this is a trustless gateway: ask for Accept: ${RAW_TYPE} or ${CAR_TYPE} (or ?format=raw|car)`)
  for (const m of parseAccept(accept)) {
    if (m.type === RAW_TYPE) return 'raw'
    if (m.type === CAR_TYPE && carVariantOk(m.params)) return 'car'
  }
  throw new HttpRequestError(406, `${url.pathname}: none of "${accept.slice(0, 200)}" is served here: ${RAW_TYPE} or ${CAR_TYPE}; version=1; order=dfs; dups=n`)
}

/** Parses `/ipfs/<cid>[/<path>]`; a path under the CID is not walked here. */
function parseIpfsPath (url: URL): CID {
  const rest = url.pathname.slice('/ipfs/'.length)
  const [first, ...more] = rest.split('/')
  let cid: CID
  try { cid = CID.parse(decodeURIComponent(first)) } catch { throw new HttpRequestError(400, `${url.pathname}: "${first.slice(0, 100)}" is not a CID`) }
  if (more.some(s => s !== '')) throw new HttpRequestError(400, `${url.pathname}: paths under a CID are not resolved by this gateway; ask for the CID at the end of the path`)
  return cid.toV1()
}

function carHeader (root: CID): Uint8Array {
  const header = dagCbor.encode({ version: 1, roots: [root] })
  return concat([encodeVarint(header.byteLength), header])
}

function encodeVarint (n: number): Uint8Array {
  const out = new Uint8Array(varint.encodingLength(n))
  varint.encodeTo(n, out, 0)
  return out
}

function concat (parts: Uint8Array[]): Uint8Array {
  return Buffer.concat(parts)
}

/** One CAR section: varint(length) | CID bytes | block bytes. */
function carSection (cid: CID, bytes: Uint8Array): Uint8Array {
  return concat([encodeVarint(cid.bytes.byteLength + bytes.byteLength), cid.bytes, bytes])
}

/** Serves `GET|HEAD /ipfs/<cid>`. */
export async function serveTrustless (req: IncomingMessage, res: ServerResponse, url: URL, ctx: TrustlessContext): Promise<void> {
  const requested = url.pathname.slice('/ipfs/'.length).split('/')[0]
  const cid = parseIpfsPath(url)
  const format = chooseFormat(url, req.headers.accept)
  const head = req.method === 'HEAD'
  const onlyIfCached = /(^|,)\s*only-if-cached\s*(,|$)/i.test(req.headers['cache-control'] ?? '')
  if (onlyIfCached && cid.multihash.code !== 0 && !(await ctx.has(cid))) throw new HttpRequestError(412, `${cid} is not on this node (Cache-Control: only-if-cached)`)
  const common = (type: string, etag: string, ext: string): void => {
    res.setHeader('Content-Type', type)
    res.setHeader('Cache-Control', IMMUTABLE)
    res.setHeader('Etag', etag)
    res.setHeader('Vary', 'Accept')
    res.setHeader('X-Ipfs-Path', `/ipfs/${requested}`)
    res.setHeader('X-Ipfs-Roots', cid.toString())
    res.setHeader('Content-Disposition', `attachment; filename="${cid}.${ext}"`)
    if (url.searchParams.get('format') == null) res.setHeader('Content-Location', `/ipfs/${requested}?format=${format}`)
  }

  if (format === 'raw') {
    const bytes = cid.multihash.code === 0 ? cid.multihash.digest : await ctx.get(cid, { signal: ctx.signal })
    const etag = `"${cid}.raw"`
    if (req.headers['if-none-match'] === etag) { res.statusCode = 304; common(RAW_TYPE, etag, 'bin'); res.end(); return }
    common(RAW_TYPE, etag, 'bin')
    res.setHeader('Content-Length', bytes.byteLength)
    res.statusCode = 200
    res.end(head ? undefined : bytes)
    return
  }

  const scopeParam = url.searchParams.get('dag-scope') ?? 'all'
  if (scopeParam !== 'block' && scopeParam !== 'entity' && scopeParam !== 'all') throw new HttpRequestError(400, `dag-scope=${scopeParam}: expected block, entity or all`)
  const bytesParam = url.searchParams.get('entity-bytes')
  const entityBytes: EntityBytes | undefined = bytesParam != null ? parseEntityBytes(bytesParam) : undefined
  const scope: DagScope = entityBytes != null ? 'entity' : scopeParam
  const etag = `"${cid}.car.${scope}${entityBytes != null ? `.${entityBytes.from}-${entityBytes.to ?? '*'}` : ''}.dfs.n"`
  if (req.headers['if-none-match'] === etag) { res.statusCode = 304; common(CAR_RESPONSE_TYPE, etag, 'car'); res.end(); return }
  const blocks = walkCar(cid, { scope, entityBytes, get: async c => ctx.get(c, { signal: ctx.signal }) })
  // the root block is read before the status is sent: a CID the node cannot get is a 404/504, not an empty 200
  const first = await blocks.next()
  common(CAR_RESPONSE_TYPE, etag, 'car')
  res.statusCode = 200
  if (head) { res.end(); await blocks.return(undefined); return }
  await writeChunk(res, carHeader(cid), ctx.signal)
  if (first.done !== true) await writeChunk(res, carSection(first.value.cid, first.value.bytes), ctx.signal)
  // after the 200, a block that cannot be had ends the stream early: the client sees an incomplete CAR (the spec's rule)
  for await (const block of blocks) await writeChunk(res, carSection(block.cid, block.bytes), ctx.signal)
  res.end()
}
