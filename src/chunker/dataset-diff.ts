/**
 * The difference between two dataset roots, reading only the index nodes that differ: both trees
 * are walked side by side in name order, and two subtrees with the same CID (the same entries) are
 * skipped without being read. What is read depends on how far the trees' node boundaries agree
 * (docs/FORMAT.md section 6): an entry changed in place changes only the nodes on its way to the
 * root; an entry added or removed shifts the boundaries of the nodes after it at that tree level.
 */
import type { CID } from 'multiformats/cid'
import { FormatError } from '../errors.js'
import { compareNames, decodeIndexNode, MAX_DEPTH, type DatasetChild, type DatasetEntry, type DatasetNode, type DatasetRoot } from './dataset.js'

export type EntryChange =
  | { change: 'added', entry: DatasetEntry }
  | { change: 'removed', entry: DatasetEntry }
  | { change: 'changed', old: DatasetEntry, entry: DatasetEntry }

type Item = { node: DatasetChild, depth: number } | { entry: DatasetEntry }

/** One tree as a stream of items in name order, subtrees expanded only when asked (head = last element). */
class Cursor {
  private readonly items: Item[] = []
  constructor (root: DatasetNode, private readonly getBlock: (cid: CID) => Promise<Uint8Array>) {
    this.push(root, 0)
  }

  private push (node: DatasetNode, depth: number): void {
    if (node.entries !== undefined) for (let i = node.entries.length - 1; i >= 0; i--) this.items.push({ entry: node.entries[i] })
    else for (let i = node.children!.length - 1; i >= 0; i--) this.items.push({ node: node.children![i], depth: depth + 1 })
  }

  head (): Item | undefined { return this.items[this.items.length - 1] }
  next (): void { this.items.pop() }

  /** Replaces the head subtree by its children or entries (one index node read). */
  async expand (): Promise<void> {
    const item = this.items.pop() as { node: DatasetChild, depth: number }
    if (item.depth > MAX_DEPTH) throw new FormatError(`dataset index is deeper than ${MAX_DEPTH} levels`)
    const node = decodeIndexNode(await this.getBlock(item.node.cid), item.node.cid, item.node.count)
    const first = node.entries?.[0]?.name ?? node.children?.[0]?.first
    if (first !== item.node.first) throw new FormatError(`dataset index node ${item.node.cid} starts with ${JSON.stringify(first)}, its parent says ${JSON.stringify(item.node.first)}`)
    this.push(node, item.depth)
  }
}

const firstOf = (item: Item): string => 'entry' in item ? item.entry.name : item.node.first

/** Entries added, removed and changed (same name, other root) from `oldRoot` to `newRoot`, in name order. */
export async function * diffDatasets (
  oldRoot: DatasetRoot,
  newRoot: DatasetRoot,
  getOld: (cid: CID) => Promise<Uint8Array>,
  getNew: (cid: CID) => Promise<Uint8Array>
): AsyncGenerator<EntryChange> {
  const a = new Cursor(oldRoot, getOld)
  const b = new Cursor(newRoot, getNew)
  for (;;) {
    const x = a.head()
    const y = b.head()
    if (x == null && y == null) return
    if (y == null) {
      if ('entry' in x!) { yield { change: 'removed', entry: x.entry }; a.next() } else await a.expand()
      continue
    }
    if (x == null) {
      if ('entry' in y) { yield { change: 'added', entry: y.entry }; b.next() } else await b.expand()
      continue
    }
    if ('node' in x && 'node' in y && x.node.cid.equals(y.node.cid)) { a.next(); b.next(); continue }
    if ('entry' in x && 'entry' in y) {
      const cmp = compareNames(x.entry.name, y.entry.name)
      if (cmp === 0) {
        if (!x.entry.root.equals(y.entry.root) || x.entry.kind !== y.entry.kind) yield { change: 'changed', old: x.entry, entry: y.entry }
        a.next(); b.next()
      } else if (cmp < 0) {
        yield { change: 'removed', entry: x.entry }; a.next()
      } else {
        yield { change: 'added', entry: y.entry }; b.next()
      }
      continue
    }
    // a subtree faces an entry or another subtree: an entry before the subtree's first name is not
    // in it; otherwise open the subtree that starts first (or the larger of two starting together)
    const cmp = compareNames(firstOf(x), firstOf(y))
    if ('entry' in x && cmp < 0) { yield { change: 'removed', entry: x.entry }; a.next(); continue }
    if ('entry' in y && cmp > 0) { yield { change: 'added', entry: y.entry }; b.next(); continue }
    if ('node' in x && 'node' in y) {
      if (cmp < 0 || (cmp === 0 && x.node.count >= y.node.count)) await a.expand()
      else await b.expand()
    } else if ('node' in x) {
      await a.expand()
    } else {
      await b.expand()
    }
  }
}
