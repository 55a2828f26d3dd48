/**
 * The node's HTTP gateway (`serve --http ADDR`): read-only. `/ipfs/<cid>` answers trustless
 * gateway requests (raw blocks and CARs), `/mist/<root>[/<path>]` describes roots as JSON or
 * renders one output, `/` is the viewer. Binds 127.0.0.1 unless another address is named.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import PQueue from 'p-queue'
import { CID } from 'multiformats/cid'
import type { CodecPool } from '../codec/index.js'
import { describeError, HttpRequestError, UsageError } from '../errors.js'
import type { BlockSource } from '../repo/index.js'
import { httpUrl, isLoopback, parseHttpAddress } from './address.js'
import { mistJson } from './mist-json.js'
import { serveRender } from './render.js'
import { baseHeaders, IMMUTABLE, sendError, sendJson, statusFor } from './respond.js'
import { serveTrustless } from './trustless.js'
import { serveViewer } from './viewer.js'

export interface HttpGatewayOptions {
  /** `PORT`, `HOST:PORT` or `[IPv6]:PORT`; a bare port (and the default, port 0) binds 127.0.0.1. */
  listen?: string
  /** How long one request may wait for blocks from peers before it ends in 504 (default 30 s). */
  timeoutMs?: number
  /** Origins allowed to read responses from other sites (CORS); none by default. `*` allows any. */
  corsOrigins?: string[]
  /** Renders (decode + encode) run at once; more wait in line (default 2). */
  renderConcurrency?: number
  pool?: CodecPool
  /** Messages for the user (the warning about a non-loopback address). */
  log?: (message: string) => void
}

export interface HttpGateway {
  /** `http://host:port` of the listening server. */
  url: string
  close: () => Promise<void>
}

/** Renders waiting beyond this many are refused with 503 (each holds a decoded image). */
const MAX_RENDER_QUEUE = 64

/** Splits `/mist/<root>/<a>/<b>` into the root CID and the entry path `a/b` (undefined when none). */
function parseMistPath (pathname: string): { root: CID, path?: string } {
  const parts = pathname.slice('/mist/'.length).split('/').filter(p => p !== '')
  if (parts.length === 0) throw new HttpRequestError(404, '/mist/<root CID> describes a root; give the CID that publish printed')
  let root: CID
  try { root = CID.parse(decodeURIComponent(parts[0])) } catch { throw new HttpRequestError(400, `"${parts[0].slice(0, 100)}" is not a CID`) }
  let segments: string[]
  try { segments = parts.slice(1).map(p => decodeURIComponent(p)) } catch { throw new HttpRequestError(400, `${pathname.slice(0, 200)}: bad %-encoding`) }
  if (segments.some(s => s === '.' || s === '..' || s.includes('/'))) throw new HttpRequestError(400, `${pathname.slice(0, 200)}: "." and ".." are not entry names`)
  return { root, path: segments.length > 0 ? segments.join('/') : undefined }
}

/**
 * Each block may take `timeoutMs` to come (from disk, or from peers): past that the request
 * ends in 504 rather than hanging, while decoding and streaming take what they take.
 */
function timedSource (source: BlockSource, timeoutMs: number): BlockSource {
  return {
    remote: source.remote,
    has: async (cid, o) => source.has(cid, o),
    get: async (cid, o = {}) => {
      const timeout = AbortSignal.timeout(timeoutMs)
      try {
        return await source.get(cid, { ...o, signal: o.signal != null ? AbortSignal.any([o.signal, timeout]) : timeout })
      } catch (err) {
        if (timeout.aborted && o.signal?.aborted !== true) throw new HttpRequestError(504, `block ${cid} did not arrive within ${(timeoutMs / 1000).toFixed(1)} s (no connected peer had it)`, { cause: err })
        throw err
      }
    },
    ...(source.transferStats != null ? { transferStats: () => source.transferStats!() } : {})
  }
}

/** Starts the gateway over `source` (the repo, or the repo plus the node's peers). */
export async function startHttpGateway (source: BlockSource, options: HttpGatewayOptions = {}): Promise<HttpGateway> {
  const { host, port } = parseHttpAddress(options.listen ?? '0')
  if (!isLoopback(host)) options.log?.(`warning: the HTTP gateway listens on ${host}: the medical data in this repo can be read by anyone who can reach that address (it has no access control); bind 127.0.0.1 to keep it on this machine`)
  const timeoutMs = options.timeoutMs ?? 30_000
  const renders = new PQueue({ concurrency: options.renderConcurrency ?? 2 })
  const cors = new Set(options.corsOrigins ?? [])
  const remote = source.remote === true
  source = timedSource(source, timeoutMs)

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    baseHeaders(res)
    const origin = req.headers.origin
    if (origin != null && (cors.has('*') || cors.has(origin))) {
      res.setHeader('Access-Control-Allow-Origin', cors.has('*') ? '*' : origin)
      res.setHeader('Vary', 'Origin')
    }
    if (req.method === 'OPTIONS' && origin != null && (cors.has('*') || cors.has(origin))) {
      res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD')
      res.setHeader('Access-Control-Allow-Headers', 'Accept, Range, Cache-Control')
      res.statusCode = 204
      res.end()
      return
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('Allow', 'GET, HEAD')
      sendError(res, 405, `${req.method ?? '?'}: this gateway is read-only (GET, HEAD)`)
      return
    }
    // a client that goes away stops the work
    const gone = new AbortController()
    res.once('close', () => gone.abort(new Error('client closed the connection')))
    const signal = gone.signal
    let url: URL
    try { url = new URL(req.url ?? '/', 'http://gateway.invalid') } catch { sendError(res, 400, 'bad request URL'); return }
    try {
      if (url.pathname.startsWith('/ipfs/')) {
        await serveTrustless(req, res, url, { get: async (cid, o) => source.get(cid, o), has: async cid => source.has(cid), signal })
      } else if (url.pathname.startsWith('/mist/')) {
        const { root, path } = parseMistPath(url.pathname)
        if (url.searchParams.has('format')) {
          if (renders.size >= MAX_RENDER_QUEUE) throw new HttpRequestError(503, 'too many renders are waiting; try again shortly')
          await renders.add(async () => serveRender(res, source, root, path, url, { pool: options.pool, signal }), { signal })
        } else {
          sendJson(res, await mistJson(source, root, path, url, { signal }), IMMUTABLE)
        }
      } else if (!(await serveViewer(req, res, url))) {
        sendError(res, 404, `${url.pathname.slice(0, 200)}: not found (this gateway serves /ipfs/<cid>, /mist/<root> and the viewer at /)`)
      }
    } catch (err: any) {
      const status = statusFor(err, { remote })
      if (gone.signal.aborted) { res.destroy(); return }
      const message = describeError(err, url.pathname).message
      if (status >= 500 && status !== 504 && status !== 503) options.log?.(`http: ${req.method} ${url.pathname.slice(0, 200)}: ${describeError(err, url.pathname).name}: ${message}`)
      sendError(res, status, message)
    }
  }

  const server: Server = createServer((req, res) => { void handle(req, res) })
  server.headersTimeout = 20_000
  server.requestTimeout = 0
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: any) => reject(new UsageError(`--http ${options.listen ?? '0'}: cannot listen on ${httpUrl(host, port)}: ${err.code ?? err.message}${err.code === 'EADDRINUSE' ? ' (another program listens there: choose another port)' : ''}`, { cause: err })))
    server.listen(port, host, () => { server.removeAllListeners('error'); resolve() })
  })
  const address = server.address() as AddressInfo
  return {
    url: httpUrl(host === 'localhost' ? '127.0.0.1' : host, address.port),
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => resolve()))
      renders.clear()
    }
  }
}
