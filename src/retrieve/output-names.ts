/**
 * Output paths of a dataset's entries. An entry name is data from a peer: the path made from
 * it is checked where it is made (every segment a plain name, the result inside the output
 * directory), and two entries never write the same file, also where the file system ignores
 * case (docs/DESIGN.md, "Output names").
 */
import { resolve } from 'node:path'
import { BIDI_CONTROLS as BIDI, CONTROL_CHARACTERS as CONTROL } from '../chunker/dataset.js'
import { OutputPathError } from '../errors.js'
import { relativeInside } from '../util/output-dir.js'


/**
 * Longest path segment written, in UTF-8 bytes: 255 (the usual file system limit) less what a
 * write adds to a file name (`.<12 hex>.tmp`, and a scratch suffix for streamed outputs).
 */
export const MAX_SEGMENT_BYTES = 224

const utf8 = new TextEncoder()

/** Why `rel` (a relative POSIX path) is not a safe output path, or undefined. */
export function unsafeRelativePath (rel: string): string | undefined {
  if (rel.length === 0) return 'is empty'
  if (rel.startsWith('/')) return 'is absolute'
  if (rel.includes('\\')) return 'contains a backslash'
  if (CONTROL.test(rel)) return 'contains a control character'
  if (BIDI.test(rel)) return 'contains a bidirectional-override character'
  for (const segment of rel.split('/')) {
    if (segment === '') return 'has an empty segment'
    if (segment === '.' || segment === '..') return `has a "${segment}" segment`
    if (segment.length * 3 > MAX_SEGMENT_BYTES && utf8.encode(segment).byteLength > MAX_SEGMENT_BYTES) return `has a segment longer than ${MAX_SEGMENT_BYTES} UTF-8 bytes, more than file systems take`
  }
  return undefined
}

/** `rel` under `root` as an absolute path, checked to lie strictly inside `root`. */
export function pathInside (root: string, rel: string, entry: string): string {
  const why = unsafeRelativePath(rel)
  if (why !== undefined) throw new OutputPathError(`${JSON.stringify(entry)}: refused: its output path ${JSON.stringify(rel)} ${why}; the dataset root is corrupt or hostile (nothing was written for it)`)
  const path = resolve(root, rel)
  if (relativeInside(root, path) === undefined) throw new OutputPathError(`${JSON.stringify(entry)}: refused: its output path ${JSON.stringify(rel)} leads outside the output directory ${root}`)
  return path
}

/** Numbered names tried after the plain ones (`scan~2.png` ... `scan~9.png`). */
export const NUMBERED_CANDIDATES = 8

/**
 * Output paths to try for an entry, in order: its name with the image extension replaced by
 * `ext` (`scan.png` -> `scan.png`); its whole name plus `ext` (`scan.PNG` -> `scan.PNG.png`);
 * then `scan~2.png` ... `scan~9.png`.
 */
export function outputCandidates (name: string, stem: string, ext: string): string[] {
  const out = [stem + ext]
  if (name !== stem) out.push(name + ext)
  for (let i = 2; i < 2 + NUMBERED_CANDIDATES; i++) out.push(`${stem}~${i}${ext}`)
  return out
}

/** The key two paths share when a case-insensitive, normalising file system takes them for one. */
function fold (rel: string): string {
  return rel.normalize('NFC').toLowerCase()
}

function ancestors (key: string): string[] {
  const out: string[] = []
  for (let i = key.indexOf('/'); i >= 0; i = key.indexOf('/', i + 1)) out.push(key.slice(0, i))
  return out
}

/**
 * The output paths claimed so far in one dataset (relative to the output directory, folded):
 * files, directories written whole (a volume of per-slice files) and the directories that
 * hold them. A path is free when no claimed file or whole directory is it or one of its
 * parents, and, for a file, no other output needs it as a directory.
 */
export class OutputNames {
  private readonly files = new Map<string, string>()
  private readonly wholeDirs = new Map<string, string>()
  private readonly parents = new Map<string, string>()

  /** The entry whose output `rel` would collide with, or undefined when it is free. */
  takenBy (rel: string): string | undefined {
    const key = fold(rel)
    const hit = this.files.get(key) ?? this.wholeDirs.get(key) ?? this.parents.get(key)
    if (hit !== undefined) return hit
    for (const a of ancestors(key)) {
      const owner = this.files.get(a) ?? this.wholeDirs.get(a)
      if (owner !== undefined) return owner
    }
    return undefined
  }

  private add (rel: string, dir: boolean, entry: string): void {
    const key = fold(rel)
    ;(dir ? this.wholeDirs : this.files).set(key, entry)
    for (const a of ancestors(key)) if (!this.parents.has(a)) this.parents.set(a, entry)
  }

  /**
   * Claims the first free candidate for `entry` and returns it. The first candidate (the name
   * with its image extension replaced) must be safe; when it is taken the next ones are tried
   * (see outputCandidates); when all are taken the entry is refused. Called in entry order, the
   * result does not depend on timing.
   */
  claim (entry: string, candidates: string[], dir: boolean): string {
    const why = unsafeRelativePath(candidates[0])
    if (why !== undefined) throw new OutputPathError(`${JSON.stringify(entry)}: refused: its output path ${JSON.stringify(candidates[0])} ${why}; the dataset root is corrupt or hostile (nothing was written for it)`)
    let owner: string | undefined
    for (const rel of candidates) {
      if (unsafeRelativePath(rel) !== undefined) continue
      const taken = this.takenBy(rel)
      if (taken === undefined) {
        this.add(rel, dir, entry)
        return rel
      }
      owner ??= taken
    }
    throw new OutputPathError(`${JSON.stringify(entry)}: refused: its output ${JSON.stringify(candidates[0])} would overwrite the output of entry ${JSON.stringify(owner)} (names that differ only in case or image extension write the same file on many systems), and so would ${candidates.length - 1 > 0 ? `its ${candidates.length - 1} other candidate names up to ${JSON.stringify(candidates[candidates.length - 1])}` : 'every other name'}; rename one of them and republish`)
  }
}
