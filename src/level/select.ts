import { UsageError } from '../errors.js'
import type { LevelSelection } from '../types.js'

export type { LevelSelection }

export interface LevelInfo { level: number, width: number, height: number }

/**
 * Picks a level from a root's level list. `clamp` (used across a dataset, whose images
 * have different numbers of levels) turns a level beyond an image's finest into its finest;
 * otherwise such a request is a UsageError that lists what exists.
 */
export function chooseLevel (levels: LevelInfo[], selection: LevelSelection, options: { clamp?: boolean, name?: string } = {}): number {
  if (levels.length === 0) throw new UsageError(`${options.name ?? 'image'} has no levels`)
  const finest = levels[levels.length - 1].level
  if (selection.level != null && selection.size != null) throw new UsageError('give either --level or --size, not both')
  if (selection.size != null) {
    if (!Number.isFinite(selection.size) || selection.size < 1) throw new UsageError(`--size must be a positive number of pixels, got ${selection.size}`)
    const hit = levels.find(l => Math.max(l.width, l.height) >= (selection.size as number))
    return hit?.level ?? finest
  }
  if (selection.level == null || selection.level === 'full') return finest
  const k = selection.level
  if (!Number.isInteger(k) || k < 0) throw new UsageError(`--level must be an integer >= 0 or "full", got ${k}`)
  if (k > finest) {
    if (options.clamp === true) return finest
    throw new UsageError(`${options.name ?? 'image'} has levels 0..${finest} (${levels.map(l => `${l.level}: ${l.width}x${l.height}`).join(', ')}); level ${k} does not exist`)
  }
  return k
}

/** Parses the CLI's --level value. */
export function parseLevel (value: string): number | 'full' {
  if (value === 'full') return 'full'
  const n = Number(value)
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n)) throw new UsageError(`--level must be an integer >= 0 or "full", got "${value}"`)
  return n
}
