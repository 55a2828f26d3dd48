/**
 * Opening an input path: clear errors for directories, missing and empty files.
 */
import { readFile, stat } from 'node:fs/promises'
import { InvalidInputError } from '../errors.js'

/** Reads a whole regular file; refuses directories, special files and empty files with InvalidInputError. */
export async function readInputBytes (path: string, signal?: AbortSignal): Promise<Buffer> {
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
  return await readFile(path, { signal })
}
