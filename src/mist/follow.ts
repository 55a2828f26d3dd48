/**
 * `mirror --follow <peer-id>/<name> --level K`: keeps the newest version of a named dataset
 * mirrored up to level K. Each round resolves the name among the connected members; a new root is
 * mirrored (only the blocks not already held are fetched, so the unchanged files of the previous
 * version cost nothing) and recorded with the name it follows; once that record is written, the
 * followed versions beyond the newest `keep` lose their records and the next `gc` frees what only
 * they needed. A round interrupted mid-fetch leaves no record: the next one fetches what is missing.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { CID } from 'multiformats/cid'
import { UsageError } from '../errors.js'
import type { LevelSelection } from '../level/index.js'
import type { OperationOptions, ProgressEvent } from '../types.js'
import type { Mist } from './create.js'

/** What a round needs: a Mist, or a client of a running serve (follow-serve.ts). */
export type FollowDeps = Pick<Mist, 'resolve' | 'ls' | 'mirror' | 'unpin'>

export interface FollowRound {
  name: string
  root: string
  seq: string
  /** A version not mirrored before: it was fetched and recorded this round. */
  changed: boolean
  fetchedBlocks: number
  fetchedBytes: number
  /** Older followed versions whose records were removed (freed by the next gc). */
  dropped: string[]
}

export interface FollowOptions extends LevelSelection, OperationOptions<ProgressEvent<'follow:round', FollowRound>> {
  /** Followed versions kept (default 1: only the newest). */
  keep?: number
  /** One round, then return (cron, tests); default: poll every `intervalMs` until aborted. */
  once?: boolean
  /** Between rounds, ms (default 60 s). */
  intervalMs?: number
}

/** One round of following `text` (a name); see the module comment. */
export async function followOnce (mist: FollowDeps, text: string, options: FollowOptions = {}): Promise<FollowRound> {
  const resolved = await mist.resolve(text, { signal: options.signal })
  const key = `${resolved.peer}/${resolved.name}`
  const followed = (await mist.ls({ signal: options.signal })).filter(h => h.mirror?.follow === key).sort((a, b) => b.at.localeCompare(a.at))
  const round: FollowRound = { name: key, root: resolved.root, seq: resolved.seq, changed: false, fetchedBlocks: 0, fetchedBytes: 0, dropped: [] }
  if (followed[0]?.root !== resolved.root) {
    const selection: LevelSelection = options.size != null ? { size: options.size } : { level: options.level ?? 'full' }
    const result = await mist.mirror(CID.parse(resolved.root), { ...selection, follow: key, signal: options.signal })
    round.changed = true
    round.fetchedBlocks = result.freshBlocks
    round.fetchedBytes = result.freshBytes
  }
  const keep = Math.max(1, options.keep ?? 1)
  const current = (await mist.ls({ signal: options.signal })).filter(h => h.mirror?.follow === key).sort((a, b) => b.at.localeCompare(a.at))
  for (const old of current.slice(keep)) {
    if (old.root === resolved.root) continue
    await mist.unpin(CID.parse(old.root))
    round.dropped.push(old.root)
  }
  options.onProgress?.({ type: 'follow:round', detail: round })
  return round
}

/** Runs `round` again and again until `signal` aborts (or once). Failures are reported and retried. */
export async function followLoop (round: () => Promise<FollowRound>, options: Pick<FollowOptions, 'once' | 'intervalMs' | 'signal'> & { onError?: (err: Error) => void } = {}): Promise<FollowRound | undefined> {
  const interval = options.intervalMs ?? 60_000
  if (!(interval >= 1000)) throw new UsageError('a follow interval is at least 1 s')
  for (;;) {
    try {
      const result = await round()
      if (options.once === true) return result
    } catch (err: any) {
      if (options.once === true || options.signal?.aborted === true) throw err
      options.onError?.(err)
    }
    try {
      await sleep(interval, undefined, { signal: options.signal })
    } catch {
      return undefined
    }
  }
}
