import { readdir, realpath, stat } from 'node:fs/promises'
import { basename, join, resolve, sep } from 'node:path'
import { InvalidInputError } from '../errors.js'

/** One file to publish: where it is and the name it gets in the dataset. */
export interface InputFile {
  path: string
  /** POSIX relative path used as the dataset entry name. */
  name: string
  /** Found by walking a directory argument (its DICOM files are grouped into series). */
  inDirectory?: boolean
}

/** An entry of a published directory that was not published, and why. */
export interface SkippedEntry {
  path: string
  reason: string
}

export interface CollectOptions {
  /** Paths never published nor entered (the repo itself, when it lies inside a published directory). */
  exclude?: string[]
  /**
   * Follow symbolic links whatever they point to (still never into an excluded path). Without it,
   * a link is followed only when its target lies inside the published paths: git-annex and DataLad
   * keep content under the dataset's own .git/annex, while a link in a directory received from
   * elsewhere must not publish a file from elsewhere on the machine.
   */
  followSymlinks?: boolean
}

/** `child` is `parent` or lies under it (both absolute and real). */
function inside (child: string, parent: string): boolean {
  return child === parent || child.startsWith(parent.endsWith(sep) ? parent : parent + sep)
}

/**
 * Expands the command-line paths into files, directories recursively, in a stable
 * (sorted) order. Hidden entries (.DS_Store, .git) are skipped; symbolic links are followed
 * as `followSymlinks` says; special files (FIFOs, sockets, devices) are skipped. Every entry
 * of a directory that is not published is listed in `skipped` with the reason.
 * With one directory argument, names are relative to it; with several arguments,
 * each name starts with the argument's base name so they cannot collide.
 */
export async function collectInputs (paths: string[], options: CollectOptions = {}): Promise<{ files: InputFile[], isDataset: boolean, skipped: SkippedEntry[] }> {
  if (paths.length === 0) throw new InvalidInputError('nothing to publish: give one or more files or directories')
  const exclude = (await Promise.all((options.exclude ?? []).map(async p => [resolve(p), await realpath(p).catch(() => resolve(p))]))).flat()
  const roots = await Promise.all(paths.map(async p => await realpath(p).catch(() => resolve(p))))
  const files: InputFile[] = []
  const skipped: SkippedEntry[] = []
  let isDataset = paths.length > 1
  const ctx = { exclude, roots, follow: options.followSymlinks === true, skipped, visited: new Set<string>() }
  for (const [i, arg] of paths.entries()) {
    const abs = resolve(arg)
    let info
    try {
      info = await stat(abs) // a link given on the command line is the user's explicit choice: followed
    } catch (err: any) {
      throw new InvalidInputError(`${arg}: ${err?.code === 'ENOENT' ? 'no such file or directory' : err?.message ?? err}`, { cause: err })
    }
    const prefix = paths.length > 1 ? basename(abs) : ''
    if (info.isDirectory()) {
      isDataset = true
      ctx.visited.add(roots[i])
      // files are listed as found, each named once (an archive's walk makes no list of paths to convert)
      await walk(abs, prefix, ctx, files)
    } else {
      files.push({ path: abs, name: basename(abs) })
    }
  }
  return { files, isDataset, skipped }
}

/**
 * `s` stored as one flat string: path.join and concatenation leave a rope of string nodes
 * (~600 B a path for an archive's 100,000 files, a heap snapshot of the walk showed); reading a
 * character has V8 flatten it in place.
 */
function flat (s: string): string {
  s.charCodeAt(0)
  return s
}

interface WalkContext { exclude: string[], roots: string[], follow: boolean, skipped: SkippedEntry[], visited: Set<string> }

/** Appends the files under `dir` to `out`, named `<rel>/<path below dir>` (POSIX separators). */
async function walk (dir: string, rel: string, ctx: WalkContext, out: InputFile[]): Promise<void> {
  const entries = await readdir(dir, { withFileTypes: true })
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))
  for (const entry of entries) {
    const full = flat(join(dir, entry.name))
    const name = rel === '' ? entry.name : flat(`${rel}/${entry.name}`)
    if (ctx.exclude.some(e => e === full)) continue // the repo: not data, said once by the caller
    if (entry.name.startsWith('.')) { ctx.skipped.push({ path: full, reason: 'hidden (name starts with a dot)' }); continue }
    if (entry.isDirectory()) { await walkOnce(full, full, name, ctx, out); continue }
    if (entry.isFile()) { out.push({ path: full, name, inDirectory: true }); continue }
    if (!entry.isSymbolicLink()) { ctx.skipped.push({ path: full, reason: `not a regular file (${kindOf(entry)})` }); continue }
    const target = await realpath(full).catch(() => undefined)
    if (target == null) { ctx.skipped.push({ path: full, reason: 'dangling symbolic link (its target does not exist)' }); continue }
    if (ctx.exclude.some(e => inside(target, e))) { ctx.skipped.push({ path: full, reason: `symbolic link into the repo (${target}): never published` }); continue }
    const within = ctx.roots.some(r => inside(target, r))
    const info = await stat(target).catch(() => undefined)
    if (info == null) { ctx.skipped.push({ path: full, reason: `symbolic link to ${target}, which cannot be read` }); continue }
    if (info.isDirectory()) {
      if (!ctx.follow) { ctx.skipped.push({ path: full, reason: `symbolic link to a directory (${target}): pass --follow-symlinks to publish through it` }); continue }
      await walkOnce(full, target, name, ctx, out)
    } else if (info.isFile()) {
      if (!within && !ctx.follow) { ctx.skipped.push({ path: full, reason: `symbolic link to a file outside the published paths (${target}): pass --follow-symlinks to publish it` }); continue }
      out.push({ path: full, name, inDirectory: true })
    } else {
      ctx.skipped.push({ path: full, reason: `symbolic link to something that is not a regular file (${target})` })
    }
  }
}

/** Walks a directory (reached at `path`, really `real`) once: a link back to a directory being walked is a loop. */
async function walkOnce (path: string, real: string, rel: string, ctx: WalkContext, out: InputFile[]): Promise<void> {
  const key = await realpath(real).catch(() => real)
  if (ctx.visited.has(key)) { ctx.skipped.push({ path, reason: `directory already published through another path (${key}): a symbolic link loop or a second link to it` }); return }
  ctx.visited.add(key)
  await walk(path, rel, ctx, out)
}

function kindOf (entry: { isFIFO: () => boolean, isSocket: () => boolean, isBlockDevice: () => boolean, isCharacterDevice: () => boolean }): string {
  if (entry.isFIFO()) return 'a FIFO'
  if (entry.isSocket()) return 'a socket'
  if (entry.isBlockDevice() || entry.isCharacterDevice()) return 'a device'
  return 'unknown kind'
}

