/**
 * `catalog`: the named datasets the connected members offer. Each member answers with the records
 * it holds (its own and those it accepted), each with the levels of that root it keeps ('full', the
 * highest level K of a partial mirror, or none). Every record is checked as in `name resolve`; the
 * newest valid one per name is listed with the members holding its root and their levels.
 */
import { NameError } from '../errors.js'
import type { AbortOptions } from '../types.js'
import { checkNameRecord } from './record.js'
import { getStoredName, listNames } from './store.js'
import type { Datastore } from 'interface-datastore'

/** Names one member lists, at most. */
export const MAX_LISTED = 128

/** What a member holds of a root: every level, levels 0..K, or nothing (it only relays the record). */
export type Holds = 'full' | number | null

interface ListItem { key: string, record: string, manifest: string, holds: Holds }

/** The list this node answers with: the records it holds, each with what it keeps of the root. */
export async function encodeList (datastore: Datastore, holdsOf: (root: string) => Promise<Holds>): Promise<Uint8Array> {
  const items: ListItem[] = []
  for await (const { peer, name } of listNames(datastore)) {
    if (items.length >= MAX_LISTED) break
    const s = await getStoredName(datastore, peer, name)
    if (s == null) continue
    const r = await checkNameRecord(peer, name, s.record, s.manifest, 'this repo').catch(() => undefined)
    if (r == null) continue // expired or broken: not offered
    items.push({ key: `${peer}/${name}`, record: Buffer.from(s.record).toString('base64'), manifest: Buffer.from(s.manifest).toString('base64'), holds: await holdsOf(r.root.toString()) })
  }
  return new TextEncoder().encode(JSON.stringify({ names: items }))
}

export interface CatalogEntry {
  name: string
  root: string
  seq: string
  validity: string
  description?: string
  /** Members that hold this root, and up to which level. */
  holders: Array<{ peer: string, levels: 'full' | number }>
}

/** Checks every member's list and keeps the newest valid record per name; refusals are returned, not thrown. */
export async function buildCatalog (lists: Array<{ peer: string, list?: Uint8Array, error?: string }>, options: AbortOptions = {}): Promise<{ entries: CatalogEntry[], refused: string[] }> {
  const best = new Map<string, CatalogEntry & { seqN: bigint }>()
  const holds: Array<{ key: string, root: string, peer: string, holds: Holds }> = []
  const refused: string[] = []
  for (const { peer, list, error } of lists) {
    options.signal?.throwIfAborted()
    if (error != null) { refused.push(`${peer}: ${error}`); continue }
    if (list == null) continue
    let items: ListItem[]
    try {
      const parsed = JSON.parse(new TextDecoder().decode(list))
      if (!Array.isArray(parsed?.names) || parsed.names.length > MAX_LISTED) throw new Error(`not a list of at most ${MAX_LISTED} names`)
      items = parsed.names
    } catch (err: any) {
      refused.push(`${peer}: its list is malformed (${err?.message ?? err})`)
      continue
    }
    for (const item of items) {
      const [owner, name] = String(item?.key).split('/')
      try {
        const r = await checkNameRecord(owner, name, Buffer.from(String(item.record), 'base64'), Buffer.from(String(item.manifest), 'base64'), peer)
        const key = `${owner}/${name}`
        const h: Holds = item.holds === 'full' || (Number.isInteger(item.holds) && (item.holds as number) >= 0) ? item.holds : null
        holds.push({ key, root: r.root.toString(), peer, holds: h })
        const had = best.get(key)
        if (had == null || r.seq > had.seqN) best.set(key, { name: key, root: r.root.toString(), seq: r.seq.toString(), seqN: r.seq, validity: r.validity, description: r.description, holders: [] })
      } catch (err: any) {
        if (!(err instanceof NameError) && err?.name !== 'UsageError') throw err
        refused.push(err.message)
      }
    }
  }
  for (const h of holds) {
    const e = best.get(h.key)
    if (e != null && e.root === h.root && h.holds != null) e.holders.push({ peer: h.peer, levels: h.holds })
  }
  const entries = [...best.values()].map(({ seqN, ...e }) => e).sort((a, b) => a.name.localeCompare(b.name))
  return { entries, refused }
}
