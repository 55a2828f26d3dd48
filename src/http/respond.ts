import type { ServerResponse } from 'node:http'
import { BlockVerificationError, FormatError, HttpRequestError, MissingBlockError, UsageError } from '../errors.js'

/** Content-addressed responses never change: caches may keep them for a year. */
export const IMMUTABLE = 'public, max-age=29030400, immutable'

/** Headers on every response: no MIME sniffing of medical data, and no framing by other sites. */
export function baseHeaders (res: ServerResponse): void {
  res.setHeader('X-Content-Type-Options', 'nosniff')
  res.setHeader('X-Frame-Options', 'DENY')
  res.setHeader('Referrer-Policy', 'no-referrer')
}

/**
 * The status a failure ends in. A block the node cannot get is 404 when only the repo is asked
 * (nothing more will come) and 504 when peers were asked and the time ran out.
 */
export function statusFor (err: unknown, context: { remote: boolean }): number {
  // a block timeout deep inside a retrieve may come wrapped: the first HTTP status in the cause chain wins
  for (let e: any = err, depth = 0; e != null && depth < 8; e = e.cause, depth++) {
    if (e instanceof HttpRequestError) return e.status
  }
  if (err instanceof MissingBlockError) return context.remote ? 504 : 404
  if (err instanceof BlockVerificationError) return 502
  if (err instanceof UsageError || err instanceof FormatError) return 400
  return 500
}

/** A short plain-text error (the message names the CID and what to do). */
export function sendError (res: ServerResponse, status: number, message: string): void {
  if (res.headersSent) { res.destroy(); return }
  const body = Buffer.from(`${message}\n`)
  res.statusCode = status
  res.setHeader('Content-Type', 'text/plain; charset=utf-8')
  res.setHeader('Content-Length', body.byteLength)
  res.setHeader('Cache-Control', 'no-store')
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

/** A JSON document with its length. */
export function sendJson (res: ServerResponse, value: unknown, cache: string): void {
  // byte fields of metadata (NIfTI extensions) are listed by size, not spelled out as numbers
  const body = Buffer.from(JSON.stringify(value, (_key, v) => v instanceof Uint8Array ? { bytes: v.byteLength } : v))
  res.statusCode = 200
  res.setHeader('Content-Type', 'application/json; charset=utf-8')
  res.setHeader('Content-Length', body.byteLength)
  res.setHeader('Cache-Control', cache)
  res.end(res.req.method === 'HEAD' ? undefined : body)
}

/** Writes a chunk, waiting for the socket to drain (a slow client cannot make the node buffer a DAG). */
export async function writeChunk (res: ServerResponse, chunk: Uint8Array, signal: AbortSignal): Promise<void> {
  if (res.write(chunk)) return
  await new Promise<void>((resolve, reject) => {
    const done = (): void => { res.off('drain', done); res.off('close', done); signal.removeEventListener('abort', done); if (signal.aborted) reject(signal.reason); else resolve() }
    res.once('drain', done)
    res.once('close', done)
    signal.addEventListener('abort', done, { once: true })
  })
  signal.throwIfAborted()
}
