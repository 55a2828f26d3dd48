/**
 * Streaming gunzip of a file that stops as soon as the bytes it needs are out, so a
 * header can be validated before the whole payload is inflated, and that keeps only
 * the first bytes, so the payload's length can be checked without holding it.
 */
import { createReadStream } from 'node:fs'
import { createGunzip } from 'node:zlib'
import type { AbortOptions } from '../types.js'

/** The first bytes kept, how many bytes came out, and the zlib error when the stream broke first. */
export interface GunzipCount {
  head: Buffer
  total: number
  error?: Error
}

/**
 * Inflates the file (streamed from disk) until `limit(head).need` bytes are out, keeps the
 * first `limit(head).keep` of them and counts the rest. `limit` is called once, with the
 * first `headBytes` bytes (or fewer if the stream ends sooner), and may throw.
 */
export async function gunzipFilePrefix (path: string, headBytes: number, limit: (head: Buffer) => { need: number, keep: number }, options: AbortOptions = {}): Promise<GunzipCount> {
  const { signal } = options
  const file = createReadStream(path)
  const gz = createGunzip()
  file.on('error', err => gz.destroy(err))
  file.pipe(gz)
  const parts: Buffer[] = []
  let kept = 0
  let total = 0
  let wanted: { need: number, keep: number } | undefined
  let error: Error | undefined
  try {
    for await (const chunk of gz as AsyncIterable<Buffer>) {
      signal?.throwIfAborted()
      total += chunk.length
      if (wanted == null || kept < wanted.keep) { parts.push(chunk); kept += chunk.length }
      if (wanted == null && total >= headBytes) wanted = limit(Buffer.concat(parts))
      if (wanted != null && total >= wanted.need) break
    }
  } catch (err) {
    if (signal?.aborted === true) throw err
    if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('Z_')) error = err
    else throw err
  } finally {
    file.destroy()
    gz.destroy()
  }
  let head = Buffer.concat(parts)
  if (wanted == null) wanted = limit(head)
  if (head.length > wanted.keep) head = head.subarray(0, wanted.keep)
  return error == null ? { head, total } : { head, total, error }
}
