/**
 * `catalog`: the named datasets this node and its connected members offer (names/catalog.ts), each
 * with what its root says: kind, entries and the bytes of each level (one root block read, from the
 * members if this repo lacks it).
 */
import { CID } from 'multiformats/cid'
import { openRoot } from '../level/index.js'
import { buildCatalog, encodeList, type CatalogEntry, type Holds } from '../names/index.js'
import type { MistNode } from '../node/index.js'
import { askLists } from '../node/name-protocol.js'
import type { BlockSource, Repo } from '../repo/index.js'
import type { AbortOptions } from '../types.js'

export interface CatalogItem extends CatalogEntry {
  kind?: string
  entries?: number
  /** Bytes of each level (what a mirror of levels 0..K holds: levels[K].bytes). */
  levels?: Array<{ level: number, bytes: number }>
  error?: string
}

/** What this repo keeps of each root: 'full' (pinned), the level of a mirror record, or nothing. */
export async function holdsOfRepo (repo: Repo): Promise<(root: string) => Promise<Holds>> {
  const held = new Map<string, Holds>()
  for await (const m of repo.mirrors()) held.set(m.root, m.level === 'full' || typeof m.level === 'number' ? m.level : null)
  for await (const p of repo.pins()) held.set(p.root, 'full')
  return async root => held.get(root) ?? null
}

export async function catalog (repo: Repo, store: BlockSource, node: MistNode | undefined, options: AbortOptions = {}): Promise<{ entries: CatalogItem[], refused: string[] }> {
  const own = { peer: node?.peerId ?? 'this repo', list: await encodeList(repo.datastore, await holdsOfRepo(repo)) }
  const lists = node != null ? await askLists(node.helia.libp2p, options) : []
  const { entries, refused } = await buildCatalog([own, ...lists], options)
  const items: CatalogItem[] = []
  for (const e of entries) {
    try {
      const top = await openRoot(store, CID.parse(e.root), { signal: options.signal })
      const levels: Array<{ level: number, bytes: number }> = top.root.levels
      items.push({ ...e, kind: top.kind, entries: top.kind === 'dataset' ? top.root.count : undefined, levels: levels.map(l => ({ level: l.level, bytes: l.bytes })) })
    } catch (err: any) {
      items.push({ ...e, error: `${err?.name ?? 'Error'}: ${err?.message ?? err}` })
    }
  }
  return { entries: items, refused }
}
