import { randomBytes } from 'node:crypto'
import { createWriteStream, type WriteStream } from 'node:fs'
import { mkdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'

function tempPath (path: string): string {
  return `${path}.${randomBytes(6).toString('hex')}.tmp`
}

/**
 * Writes a file so that a reader never sees it partial under its final name:
 * the bytes go to `<path>.<random>.tmp` in the same directory, then a rename.
 */
export async function writeFileAtomic (path: string, data: Uint8Array | string): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = tempPath(path)
  try {
    await writeFile(tmp, data)
    await rename(tmp, path)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

export interface WriteStreamAtomicOptions {
  /** Compress with gzip (zlib level 6: the same bytes as gzipSync of the whole content). */
  gzip?: boolean
  signal?: AbortSignal
}

/**
 * writeFileAtomic for content produced piece by piece: the chunks are written (through gzip
 * if asked) as they come, with back-pressure, so the content is never held whole. `chunks`
 * gets a `scratch(suffix)` function naming extra files beside the temp file, removed at the end.
 * Nothing appears under `path` unless every chunk was written; a killed process leaves
 * only `<path>.<random>.tmp`.
 */
export async function writeStreamAtomic (path: string, chunks: (scratch: (suffix: string) => string) => AsyncIterable<Uint8Array>, options: WriteStreamAtomicOptions = {}): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  const tmp = tempPath(path)
  const scratches: string[] = []
  const scratch = (suffix: string): string => { const p = `${tmp}${suffix}`; scratches.push(p); return p }
  let out: WriteStream | undefined
  try {
    out = createWriteStream(tmp, { flags: 'wx' })
    const source = chunks(scratch)
    if (options.gzip === true) await pipeline(source, createGzip({ level: 6 }), out, { signal: options.signal })
    else await pipeline(source, out, { signal: options.signal })
    await rename(tmp, path)
  } catch (err) {
    // the stream opens its file asynchronously: when the content fails first, the file can
    // appear after the pipeline has rejected; remove it only once the stream is closed
    if (out != null && !out.closed) await new Promise<void>(resolve => out?.once('close', () => resolve()))
    await rm(tmp, { force: true })
    throw err
  } finally {
    for (const p of scratches) await rm(p, { force: true })
  }
}
