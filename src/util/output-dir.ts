/**
 * Directories inside an output tree, created without following symbolic links: a link placed
 * inside the output directory (by another user, or a previous run of something else) must not
 * send a write elsewhere on the machine.
 */
import { lstat, mkdir } from 'node:fs/promises'
import { isAbsolute, join, relative, sep } from 'node:path'
import { OutputPathError } from '../errors.js'

/** `path` relative to `root` when it lies strictly inside it, else undefined. */
export function relativeInside (root: string, path: string): string | undefined {
  const rel = relative(root, path)
  if (rel === '' || isAbsolute(rel) || rel === '..' || rel.startsWith(`..${sep}`)) return undefined
  return rel
}

/**
 * Makes `dir` (inside `root`, or `root` itself) a directory, creating missing components one by
 * one: every existing component below `root` is checked with lstat and must be a real directory,
 * never a symbolic link. `root` itself is the user's choice and may be a link.
 */
export async function ensureDirectoryInside (root: string, dir: string): Promise<void> {
  await mkdir(root, { recursive: true })
  if (relative(root, dir) === '') return
  const rel = relativeInside(root, dir)
  if (rel === undefined) throw new OutputPathError(`${dir} is not inside the output directory ${root}; nothing was written there`)
  let current = root
  for (const segment of rel.split(sep)) {
    current = join(current, segment)
    for (let attempt = 0; ; attempt++) {
      let info
      try {
        info = await lstat(current)
      } catch (err: any) {
        if (err?.code !== 'ENOENT') throw err
        try {
          await mkdir(current)
          break
        } catch (e: any) {
          // created meanwhile (a concurrent output): look again
          if (e?.code === 'EEXIST' && attempt === 0) continue
          throw e
        }
      }
      if (info.isSymbolicLink()) throw new OutputPathError(`${current} is a symbolic link inside the output directory ${root}; mist-p2p does not write through links there: remove the link or choose another output directory`)
      if (!info.isDirectory()) throw new OutputPathError(`${current} exists inside the output directory ${root} and is not a directory; move it away or choose another output directory`)
      break
    }
  }
}
