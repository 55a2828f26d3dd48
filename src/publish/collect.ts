import { readdir, stat } from 'node:fs/promises'
import { basename, join, relative, resolve, sep } from 'node:path'
import { InvalidInputError } from '../errors.js'

/** One file to publish: where it is and the name it gets in the dataset. */
export interface InputFile {
  path: string
  /** POSIX relative path used as the dataset entry name. */
  name: string
  /** Found by walking a directory argument (its DICOM files are grouped into series). */
  inDirectory?: boolean
}

/**
 * Expands the command-line paths into files, directories recursively, in a stable
 * (sorted) order. Dotfiles and dot-directories (.DS_Store, .git) are skipped.
 * With one directory argument, names are relative to it; with several arguments,
 * each name starts with the argument's base name so they cannot collide.
 * Paths in `exclude` (the repo itself, when it lies inside a published directory) are skipped.
 */
export async function collectInputs (paths: string[], options: { exclude?: string[] } = {}): Promise<{ files: InputFile[], isDataset: boolean }> {
  const exclude = new Set((options.exclude ?? []).map(p => resolve(p)))
  if (paths.length === 0) throw new InvalidInputError('nothing to publish: give one or more files or directories')
  const files: InputFile[] = []
  let isDataset = paths.length > 1
  for (const arg of paths) {
    const abs = resolve(arg)
    let info
    try {
      info = await stat(abs)
    } catch (err: any) {
      throw new InvalidInputError(`${arg}: ${err?.code === 'ENOENT' ? 'no such file or directory' : err?.message ?? err}`, { cause: err })
    }
    const prefix = paths.length > 1 ? basename(abs) : ''
    if (info.isDirectory()) {
      isDataset = true
      for (const file of await walk(abs, exclude)) {
        const rel = relative(abs, file).split(sep).join('/')
        files.push({ path: file, name: prefix === '' ? rel : `${prefix}/${rel}`, inDirectory: true })
      }
    } else {
      files.push({ path: abs, name: basename(abs) })
    }
  }
  return { files, isDataset }
}

async function walk (dir: string, exclude: Set<string>): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  const out: string[] = []
  for (const entry of entries) {
    if (entry.name.startsWith('.')) continue
    const full = join(dir, entry.name)
    if (exclude.has(full)) continue
    if (entry.isDirectory()) out.push(...await walk(full, exclude))
    else if (entry.isFile()) out.push(full)
  }
  return out
}
