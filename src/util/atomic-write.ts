import { randomBytes } from 'node:crypto'
import { createReadStream, createWriteStream, type WriteStream } from 'node:fs'
import { link, lstat, mkdir, rename, rm, unlink, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { pipeline } from 'node:stream/promises'
import { createGzip } from 'node:zlib'
import { OutputExistsError, OutputPathError } from '../errors.js'
import { ensureDirectoryInside } from './output-dir.js'
import type { AbortOptions } from '../types.js'

function tempPath (path: string): string {
  return `${path}.${randomBytes(6).toString('hex')}.tmp`
}

/** Where and how an atomic write may put its file. */
export interface AtomicWriteOptions {
  /**
   * An output tree the file lies in: the directories between it and the file are created
   * without following symbolic links (util/output-dir.ts), and a link among them is refused.
   */
  within?: string
  /**
   * false: an existing file is never replaced. If it holds exactly the new bytes it is kept (a
   * rerun costs nothing), otherwise OutputExistsError. Default true: replace it.
   */
  overwrite?: boolean
}

/**
 * Output directories this process has already checked (`within` + NUL + directory): a dataset
 * writes thousands of files into the same few folders, and checking each folder's path again
 * for every file cost more than writing the file. If one is removed meanwhile, the write's
 * ENOENT makes it checked (and made) again.
 */
const checkedDirs = new Set<string>()

async function prepareDirectory (path: string, options: AtomicWriteOptions): Promise<void> {
  if (options.within == null) { await mkdir(dirname(path), { recursive: true }); return }
  const key = `${options.within}\0${dirname(path)}`
  if (checkedDirs.has(key)) return
  await ensureDirectoryInside(options.within, dirname(path))
  if (checkedDirs.size >= 4096) checkedDirs.clear()
  checkedDirs.add(key)
}

function forgetDirectory (path: string, options: AtomicWriteOptions): boolean {
  return options.within != null && checkedDirs.delete(`${options.within}\0${dirname(path)}`)
}

/** Whether two files hold the same bytes (sizes first, then 1 MiB chunks side by side). */
async function sameContent (a: string, b: string): Promise<boolean> {
  const [sa, sb] = await Promise.all([lstat(a), lstat(b)])
  if (sa.size !== sb.size) return false
  const ra = createReadStream(a, { highWaterMark: 1 << 20 })[Symbol.asyncIterator]()
  const rb = createReadStream(b, { highWaterMark: 1 << 20 })
  let pending: Buffer = Buffer.alloc(0)
  try {
    for await (const chunk of rb) {
      let buf = chunk as Buffer
      while (buf.length > 0) {
        if (pending.length === 0) {
          const next = await ra.next()
          if (next.done === true) return false
          pending = next.value as Buffer
        }
        const n = Math.min(pending.length, buf.length)
        if (!pending.subarray(0, n).equals(buf.subarray(0, n))) return false
        pending = pending.subarray(n)
        buf = buf.subarray(n)
      }
    }
    return pending.length === 0 && (await ra.next()).done === true
  } finally {
    await ra.return?.()
    rb.destroy()
  }
}

function isDirectoryError (path: string): OutputPathError {
  return new OutputPathError(`${path} is a directory; give a file name, or a directory only where a dataset or a volume of per-slice files is written`)
}

/** Moves the finished temp file to `path`, following options.overwrite; removes `tmp` unless it was renamed. */
async function place (tmp: string, path: string, options: AtomicWriteOptions): Promise<void> {
  // never replacing: the link below fails on anything already there, so look only then
  const existing = options.overwrite === false ? undefined : await lstat(path).catch((err: any) => { if (err?.code === 'ENOENT') return undefined; throw err })
  if (existing?.isDirectory() === true) throw isDirectoryError(path)
  if (options.overwrite !== false) {
    await rename(tmp, path)
    return
  }
  if (existing == null) {
    // link, unlike rename, fails if a file appeared meanwhile: nothing is ever replaced
    try {
      await link(tmp, path)
      await unlink(tmp) // not rm: it would lstat the file twice first
      return
    } catch (err: any) {
      if (err?.code !== 'EEXIST') {
        // a file system without hard links: a look, then a rename, has to do
        if (!(err?.code === 'EPERM' || err?.code === 'ENOTSUP' || err?.code === 'ENOSYS' || err?.code === 'EXDEV')) throw err
        if (await lstat(path).then(() => false, () => true)) { await rename(tmp, path); return }
      }
    }
  }
  const now = await lstat(path)
  if (now.isDirectory()) throw isDirectoryError(path)
  if (now.isFile() && await sameContent(tmp, path)) {
    await rm(tmp, { force: true })
    return
  }
  throw new OutputExistsError(`${path} already exists ${now.isFile() ? 'with other content' : 'and is not a regular file'}; it was left as it is. Remove it, choose another output (-o), or pass --force to replace it`)
}

/**
 * Writes a file so that a reader never sees it partial under its final name:
 * the bytes go to `<path>.<random>.tmp` in the same directory, then a rename
 * (or, with overwrite: false, a link that never replaces an existing file).
 */
export async function writeFileAtomic (path: string, data: Uint8Array | string, options: AtomicWriteOptions = {}): Promise<void> {
  await prepareDirectory(path, options)
  const tmp = tempPath(path)
  try {
    try {
      await writeFile(tmp, data, { flag: 'wx' })
    } catch (err: any) {
      // a directory checked earlier was removed: check (and make) it again, once
      if (err?.code !== 'ENOENT' || !forgetDirectory(path, options)) throw err
      await prepareDirectory(path, options)
      await writeFile(tmp, data, { flag: 'wx' })
    }
    await place(tmp, path, options)
  } catch (err) {
    await rm(tmp, { force: true })
    throw err
  }
}

export interface WriteStreamAtomicOptions extends AtomicWriteOptions, AbortOptions {
  /** Compress with gzip (zlib level 6: the same bytes as gzipSync of the whole content). */
  gzip?: boolean
}

/**
 * writeFileAtomic for content produced piece by piece: the chunks are written (through gzip
 * if asked) as they come, with back-pressure, so the content is never held whole. `chunks`
 * gets a `scratch(suffix)` function naming extra files beside the temp file, removed at the end.
 * Nothing appears under `path` unless every chunk was written; a killed process leaves
 * only `<path>.<random>.tmp`.
 */
export async function writeStreamAtomic (path: string, chunks: (scratch: (suffix: string) => string) => AsyncIterable<Uint8Array>, options: WriteStreamAtomicOptions = {}): Promise<void> {
  await prepareDirectory(path, options)
  const tmp = tempPath(path)
  const scratches: string[] = []
  const scratch = (suffix: string): string => { const p = `${tmp}${suffix}`; scratches.push(p); return p }
  let out: WriteStream | undefined
  try {
    out = createWriteStream(tmp, { flags: 'wx' })
    const source = chunks(scratch)
    if (options.gzip === true) await pipeline(source, createGzip({ level: 6 }), out, { signal: options.signal })
    else await pipeline(source, out, { signal: options.signal })
    await place(tmp, path, options)
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
