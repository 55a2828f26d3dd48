import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { chmod, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { CID } from 'multiformats/cid'
import { MissingBlockError, UsageError } from '../errors.js'
import { verifyBlock, type MirrorSelection } from '../repo/index.js'
import { checkRepoDirTrusted } from '../repo/trust.js'
import { toWire } from './wire-errors.js'
import type { AbortOptions } from '../types.js'

/** What the running node offers to the other commands on its repo. */
export interface ControlBackend {
  /** Local block, or fetched from peers (bounded by timeoutMs). */
  get: (cid: CID, options: AbortOptions & { timeoutMs?: number }) => Promise<Uint8Array>
  has: (cid: CID) => Promise<boolean>
  /** Stores a verified block so that it is served at once (bitswap wanters are told). */
  put: (cid: CID, bytes: Uint8Array) => Promise<boolean>
  pin: (cid: CID, options: AbortOptions) => Promise<void>
  isPinned: (cid: CID) => Promise<boolean>
  /** Node identity and addresses; dial a peer. */
  /** Node identity, addresses and what it holds for clients; `collect`: collect garbage first where the process allows it (`node --expose-gc`), so `memory` shows live data. */
  id: (options?: { collect?: boolean }) => Record<string, unknown>
  dial?: (addr: string, options: AbortOptions) => Promise<void>
  /** Records that a root is mirrored up to a level. */
  recordMirror?: (cid: CID, selection: MirrorSelection) => Promise<void>
  /** What the repo keeps (`ls`). */
  holdings?: (options: AbortOptions) => Promise<unknown>
  /** Removes the pin and mirror record of a root (`unpin`). */
  unpin?: (cid: CID) => Promise<{ pin: boolean, mirror: boolean }>
  /** Signs and stores a name record for a root (`name publish`). */
  namePublish?: (cid: CID, name: string, options: { lifetimeMs?: number, description?: string }) => Promise<unknown>
  /** Resolves `<peer>/<name>` through the node's members (`name resolve`). */
  resolve?: (peer: string, name: string, options: AbortOptions) => Promise<unknown>
  /** What each connected member keeps of a root. */
  peerLevels?: (cid: CID, options: AbortOptions) => Promise<unknown>
  /** The named datasets this node and its members offer (`catalog`). */
  catalog?: (options: AbortOptions) => Promise<unknown>
  /** Removes the blocks nothing keeps (`gc`), beside the running node. */
  gc?: (options: AbortOptions) => Promise<unknown>
}

export const MAX_BLOCK_UPLOAD = 2 * 1024 * 1024

/**
 * The control endpoint of `mist-p2p serve`: HTTP over a Unix socket in the repo
 * (`<repo>/api.sock`, mode 0600: only the repo's owner can use it). Other commands on
 * the same repo read, write and pin blocks through it while the node runs, so there is
 * one writer per repo and new blocks are served at once.
 */
export async function startControlServer (socketPath: string, backend: ControlBackend): Promise<{ close: () => Promise<void> }> {
  // the socket's directory must keep others out (they could swap the socket otherwise)
  await checkRepoDirTrusted(dirname(socketPath), 'control socket')
  await rm(socketPath, { force: true })
  const server: Server = createServer((req, res) => { handle(req, res, backend).catch(err => send(res, 500, toWire(err))) })
  server.keepAliveTimeout = 30_000
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    // bind() creates the socket file inside listen(), synchronously: under umask 077 it is born
    // 0700 at most, never open to others, whatever the user's umask (a chmod after listen left a window)
    const umask = process.umask(0o077)
    try {
      server.listen(socketPath, () => { server.off('error', reject); resolve() })
    } finally {
      process.umask(umask)
    }
  })
  await chmod(socketPath, 0o600)
  return {
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>(resolve => server.close(() => { resolve() }))
      await rm(socketPath, { force: true })
    }
  }
}

function send (res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent) { res.destroy(); return }
  if (body instanceof Uint8Array) {
    res.writeHead(status, { 'content-type': 'application/octet-stream', 'content-length': body.byteLength })
    res.end(body)
    return
  }
  const text = JSON.stringify(body)
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
  res.end(text)
}

async function readBody (req: IncomingMessage, limit: number): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  let size = 0
  for await (const chunk of req) {
    size += (chunk as Buffer).byteLength
    if (size > limit) throw new UsageError(`request body over ${limit} bytes`)
    chunks.push(chunk as Buffer)
  }
  return Buffer.concat(chunks)
}

function statusOf (err: any): number {
  if (err instanceof MissingBlockError || err?.name === 'MissingBlockError') return 404
  if (err?.name === 'TimeoutError') return 504
  if (err instanceof UsageError) return 400
  return 500
}

async function handle (req: IncomingMessage, res: ServerResponse, backend: ControlBackend): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://mist')
  const parts = url.pathname.split('/').filter(Boolean)
  const controller = new AbortController()
  res.on('close', () => { if (!res.writableFinished) controller.abort() })
  const signal = controller.signal
  try {
    if (parts[0] !== 'v1') throw new UsageError(`unknown endpoint ${url.pathname}`)
    const cid = parts[2] != null && parts[1] !== 'resolve' ? CID.parse(parts[2]) : undefined
    switch (`${req.method} ${parts[1]}`) {
      case 'GET id':
        send(res, 200, backend.id({ collect: url.searchParams.get('collect') === '1' })); return
      case 'GET block': {
        const timeout = Number(url.searchParams.get('timeout') ?? '')
        const bytes = await backend.get(cid as CID, { signal, timeoutMs: Number.isFinite(timeout) && timeout > 0 ? timeout : undefined })
        send(res, 200, bytes); return
      }
      case 'HEAD block':
        res.writeHead(await backend.has(cid as CID) ? 200 : 404).end(); return
      case 'PUT block': {
        const bytes = await readBody(req, MAX_BLOCK_UPLOAD)
        verifyBlock(cid as CID, bytes, 'upload: ')
        send(res, 200, { written: await backend.put(cid as CID, bytes) }); return
      }
      case 'POST pin':
        await backend.pin(cid as CID, { signal }); send(res, 200, { pinned: true }); return
      case 'DELETE pin':
        if (backend.unpin == null) throw new UsageError('this node cannot unpin')
        send(res, 200, await backend.unpin(cid as CID)); return
      case 'GET holdings':
        if (backend.holdings == null) throw new UsageError('this node cannot list its records')
        send(res, 200, await backend.holdings({ signal })); return
      case 'POST name': {
        if (backend.namePublish == null) throw new UsageError('this node cannot publish names')
        const { name, lifetimeMs, description } = JSON.parse(Buffer.from(await readBody(req, 4096)).toString('utf8'))
        send(res, 200, await backend.namePublish(cid as CID, String(name), {
          lifetimeMs: typeof lifetimeMs === 'number' ? lifetimeMs : undefined,
          description: typeof description === 'string' ? description : undefined
        })); return
      }
      case 'GET resolve': {
        if (backend.resolve == null) throw new UsageError('this node cannot resolve names')
        send(res, 200, await backend.resolve(parts[2] ?? '', parts[3] ?? '', { signal })); return
      }
      case 'GET holds':
        if (backend.peerLevels == null) throw new UsageError('this node cannot ask its members')
        send(res, 200, await backend.peerLevels(cid as CID, { signal })); return
      case 'GET catalog':
        if (backend.catalog == null) throw new UsageError('this node cannot list a catalog')
        send(res, 200, await backend.catalog({ signal })); return
      case 'POST gc':
        if (backend.gc == null) throw new UsageError('this node cannot collect garbage')
        send(res, 200, await backend.gc({ signal })); return
      case 'GET pin':
        send(res, 200, { pinned: await backend.isPinned(cid as CID) }); return
      case 'POST dial': {
        if (backend.dial == null) throw new UsageError('this node cannot dial')
        const { addr } = JSON.parse(Buffer.from(await readBody(req, 4096)).toString('utf8'))
        await backend.dial(String(addr), { signal }); send(res, 200, { ok: true }); return
      }
      case 'POST mirror': {
        if (backend.recordMirror == null) throw new UsageError('this node does not record mirrors')
        const { level, size, path, include, exclude, follow } = JSON.parse(Buffer.from(await readBody(req, 65536)).toString('utf8'))
        const globs = (x: unknown): string[] | undefined => Array.isArray(x) && x.length <= 256 && x.every(g => typeof g === 'string' && g.length <= 1024) ? x : undefined
        await backend.recordMirror(cid as CID, {
          level: level === 'full' || typeof level === 'number' ? level : undefined,
          size: typeof size === 'number' ? size : undefined,
          path: typeof path === 'string' && path.length <= 1024 ? path : undefined,
          include: globs(include),
          exclude: globs(exclude),
          ...(typeof follow === 'string' && follow.length <= 256 ? { follow } : {})
        })
        send(res, 200, { ok: true }); return
      }
      default:
        throw new UsageError(`unknown endpoint ${req.method} ${url.pathname}`)
    }
  } catch (err) {
    send(res, statusOf(err), toWire(err))
  }
}
