/**
 * Opening an input path: clear errors for directories, missing and empty files.
 */
import { open, readFile, stat } from 'node:fs/promises'
import { InvalidInputError } from '../errors.js'
import type { AbortOptions } from '../types.js'

/** Throws InvalidInputError unless path is a non-empty regular file; returns its size. */
async function checkInputFile (path: string, signal?: AbortSignal): Promise<number> {
  signal?.throwIfAborted()
  let info
  try {
    info = await stat(path)
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    throw new InvalidInputError(`${path}: cannot open (${code ?? String(err)})`, { cause: err })
  }
  if (info.isDirectory()) throw new InvalidInputError(`${path}: is a directory, not an image file`)
  if (!info.isFile()) throw new InvalidInputError(`${path}: is not a regular file`)
  if (info.size === 0) throw new InvalidInputError(`${path}: empty file`)
  return info.size
}

/** Reads a whole regular file; refuses directories, special files and empty files with InvalidInputError. */
export async function readInputBytes (path: string, options: AbortOptions = {}): Promise<Buffer> {
  const { signal } = options
  await checkInputFile(path, signal)
  return await readFile(path, { signal })
}

/** The first `bytes` bytes of a regular file (fewer if it is shorter) and its size; refuses what readInputBytes refuses. */
export async function readInputHead (path: string, bytes: number, options: AbortOptions = {}): Promise<{ head: Uint8Array, size: number }> {
  const { signal } = options
  const size = await checkInputFile(path, signal)
  const handle = await open(path, 'r')
  try {
    const head = new Uint8Array(Math.min(bytes, size))
    const { bytesRead } = await handle.read(head, 0, head.length, 0)
    return { head: head.subarray(0, bytesRead), size }
  } finally {
    await handle.close()
  }
}
