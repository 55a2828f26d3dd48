import picomatch from 'picomatch'
import { UsageError } from '../errors.js'

/**
 * Which entries of a dataset a user asks for: one entry or one sub-directory by path, and
 * glob patterns over entry names (`*` stays within a path segment, `**` crosses them).
 */
export interface EntrySelection {
  /** An entry's name, or a sub-directory: every entry whose name starts with `path/`. */
  path?: string
  /** Keep only entries matching one of these globs. */
  include?: string[]
  /** Drop entries matching one of these globs (after include). */
  exclude?: string[]
}

/** The path with surrounding slashes removed; UsageError for "." or ".." segments. */
export function normalisePath (path: string): string {
  const p = path.replace(/^\/+|\/+$/g, '')
  if (p === '') throw new UsageError('an empty path selects nothing; give an entry or sub-directory of the dataset, or no path for all of it')
  if (p.split('/').some(s => s === '' || s === '.' || s === '..')) throw new UsageError(`"${path}": a path in a dataset has no empty, "." or ".." segments`)
  return p
}

/** Whether an entry name passes the include/exclude globs. */
export function entryFilter (selection: EntrySelection): (name: string) => boolean {
  const include = (selection.include ?? []).length > 0 ? picomatch(selection.include!, { dot: true }) : undefined
  const exclude = (selection.exclude ?? []).length > 0 ? picomatch(selection.exclude!, { dot: true }) : undefined
  return name => (include == null || include(name)) && (exclude == null || !exclude(name))
}
