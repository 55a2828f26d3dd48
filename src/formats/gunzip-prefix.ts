/**
 * Streaming gunzip that stops as soon as the bytes it needs are out, so a
 * header can be validated before the whole payload is inflated.
 */
import { createGunzip } from 'node:zlib'

/** Result of gunzipPrefix: the bytes obtained, and the zlib error when the stream broke first. */
export interface GunzipResult {
  data: Buffer
  error?: Error
}

/**
 * Inflates `compressed` until `limit(head)` bytes are out. `limit` is called once,
 * with the first `headBytes` bytes (or fewer if the stream ends sooner), and may throw.
 */
export async function gunzipPrefix (compressed: Uint8Array, headBytes: number, limit: (head: Buffer) => number, signal?: AbortSignal): Promise<GunzipResult> {
  const gz = createGunzip()
  const parts: Buffer[] = []
  let total = 0
  let wanted: number | undefined
  const feed = (): void => {
    const step = 1 << 20
    let pos = 0
    const pump = (): void => {
      while (pos < compressed.length) {
        const ok = gz.write(compressed.subarray(pos, pos + step))
        pos += step
        if (!ok) { gz.once('drain', pump); return }
      }
      gz.end()
    }
    pump()
  }
  feed()
  let error: Error | undefined
  try {
    for await (const chunk of gz as AsyncIterable<Buffer>) {
      signal?.throwIfAborted()
      parts.push(chunk)
      total += chunk.length
      if (wanted == null && total >= headBytes) wanted = limit(Buffer.concat(parts))
      if (wanted != null && total >= wanted) break
    }
  } catch (err) {
    if (signal?.aborted === true) throw err
    if (err instanceof Error && 'code' in err && typeof err.code === 'string' && err.code.startsWith('Z_')) error = err
    else throw err
  } finally {
    gz.destroy()
  }
  const data = Buffer.concat(parts)
  if (wanted == null) limit(data)
  return error == null ? { data } : { data, error }
}
