/**
 * `ls`: what a repo keeps, one line per root: its pin and/or mirror record, the kind of root,
 * entries or images, the levels held and what they cost. Read from the top roots alone (their
 * per-level totals), so it costs one block read per record whatever the datasets' size.
 */
import { CID } from 'multiformats/cid'
import { openRoot } from '../level/plan.js'
import { getNameRecord, listNames } from '../names/store.js'
import type { MirrorSelection, Repo } from '../repo/index.js'
import type { AbortOptions } from '../types.js'

export interface Holding {
  root: string
  /** Pinned: every block of every level is kept. */
  pinned: boolean
  /** The mirror record's selection, if any (a full mirror is also pinned). */
  mirror?: MirrorSelection
  kind: 'image' | 'volume' | 'dataset' | 'missing'
  /** Dataset entries, or volume slices. */
  entries?: number
  /** Levels held: 'full', the highest level index K (levels 0..K), or the target size of a --size mirror. */
  levels: 'full' | number | { size: number }
  /** Levels the root has. */
  levelCount?: number
  /** What the held levels cost (all entries; a mirror of some entries holds less). */
  bytes?: number
  /** Names (`<peer-id>/<name>`) that point at this root: records the repo holds, and the name a mirror follows. */
  names?: string[]
  /** The root block is not in the repo (the record is broken: verify, mirror again or unpin). */
  error?: string
  at: string
}

export async function listHoldings (repo: Repo, options: AbortOptions = {}): Promise<Holding[]> {
  const byRoot = new Map<string, Holding>()
  for await (const p of repo.pins()) byRoot.set(p.root, { root: p.root, pinned: true, kind: 'missing', levels: 'full', at: p.at })
  for await (const m of repo.mirrors()) {
    const { root, at, ...selection } = m
    const h = byRoot.get(root) ?? { root, pinned: false, kind: 'missing' as const, levels: 'full' as const, at }
    h.mirror = selection
    if (!h.pinned) h.levels = selection.size != null ? { size: selection.size } : (selection.level ?? 'full')
    byRoot.set(root, h)
  }
  // the names pointing at each root: valid records held here (its own and accepted ones), and followed names
  const names = new Map<string, Set<string>>()
  const add = (root: string, name: string): void => { names.set(root, (names.get(root) ?? new Set()).add(name)) }
  for await (const { peer, name } of listNames(repo.datastore)) {
    const record = await getNameRecord(repo.datastore, peer, name)
    if (record != null && byRoot.has(record.root.toString())) add(record.root.toString(), `${peer}/${name}`)
  }
  for (const h of byRoot.values()) if (h.mirror?.follow != null) add(h.root, h.mirror.follow)
  const out: Holding[] = []
  for (const h of byRoot.values()) {
    const named = names.get(h.root)
    if (named != null) h.names = [...named].sort()
    options.signal?.throwIfAborted()
    try {
      const top = await openRoot(repo, CID.parse(h.root), { signal: options.signal })
      const levels: Array<{ bytes: number }> = top.root.levels
      h.kind = top.kind
      h.levelCount = levels.length
      h.entries = top.kind === 'dataset' ? top.root.count : top.kind === 'volume' ? top.root.sliceCount : undefined
      const k = h.levels === 'full' ? levels.length - 1 : typeof h.levels === 'number' ? Math.min(h.levels, levels.length - 1) : undefined
      if (k != null) h.bytes = levels[k].bytes
    } catch (err: any) {
      if (options.signal?.aborted === true) throw err
      h.error = `${err?.name ?? 'Error'}: ${err?.message ?? err}`
    }
    out.push(h)
  }
  return out.sort((a, b) => a.at.localeCompare(b.at))
}
