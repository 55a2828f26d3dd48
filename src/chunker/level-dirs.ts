/**
 * The per-level UnixFS directory trees of a dataset, built in one streaming pass: paths arrive
 * in an order where every directory's contents are consecutive (entry-name order has this:
 * all names under `a/` sort together), so only the directories on the current path are open,
 * and each is encoded and handed to `put` as soon as the walk leaves it.
 */
import type { CID } from 'multiformats/cid'
import { FormatError } from '../errors.js'
import type { Block } from '../types.js'
import { buildUnixfsDirectory, buildUnixfsDirectoryVariants, type DirLink } from './unixfs-dir.js'

/** What a path links to at each level: a level file, or a volume's directory of slice files. */
export interface LevelTarget { cid: CID, tsize: number }

interface Child { name: string, targets: LevelTarget[] }
interface Frame { name: string, children: Child[], names: Set<string> }

export interface LevelDirectoryStats {
  /** Directory nodes made (sub-directories and HAMT shards included), over all levels. */
  blocks: number
  bytes: number
  /** Directories that were sharded. */
  sharded: number
}

/**
 * Builds `depth` directory trees (one per dataset level) from `add(path, targets)` calls,
 * `targets[k]` being what `path` holds at level k. Memory: the children of the open
 * directories (one path from the top), so a flat dataset holds all its entries once.
 */
export class LevelDirectoryBuilder {
  private readonly stack: Frame[] = [{ name: '', children: [], names: new Set() }]
  readonly stats: LevelDirectoryStats = { blocks: 0, bytes: 0, sharded: 0 }

  constructor (private readonly depth: number, private readonly put: (block: Block) => Promise<void>) {}

  /** Adds a file or a finished volume directory at `path` (a relative POSIX path). */
  async add (path: string, targets: LevelTarget[]): Promise<void> {
    if (targets.length !== this.depth) throw new RangeError(`${path}: ${targets.length} level targets for ${this.depth} levels`)
    const segments = path.split('/')
    const dirs = segments.slice(0, -1)
    // close the open directories that are not on this path
    let keep = 0
    while (keep < dirs.length && keep + 1 < this.stack.length && this.stack[keep + 1].name === dirs[keep]) keep++
    while (this.stack.length > keep + 1) await this.close()
    for (const d of dirs.slice(keep)) {
      this.claim(this.stack[this.stack.length - 1], d, path)
      this.stack.push({ name: d, children: [], names: new Set() })
    }
    const top = this.stack[this.stack.length - 1]
    const name = segments[segments.length - 1]
    this.claim(top, name, path)
    top.children.push({ name, targets })
  }

  /** Closes every directory and returns the top directory of each level. */
  async finish (): Promise<LevelTarget[]> {
    while (this.stack.length > 1) await this.close()
    return await this.encode(this.stack[0].children)
  }

  private claim (frame: Frame, name: string, path: string): void {
    if (frame.names.has(name)) throw new FormatError(`${JSON.stringify(path)}: its directory already has an entry ${JSON.stringify(name)} (paths must come grouped by directory, each once)`)
    frame.names.add(name)
  }

  private async close (): Promise<void> {
    const frame = this.stack.pop()!
    const targets = await this.encode(frame.children)
    this.stack[this.stack.length - 1].children.push({ name: frame.name, targets })
  }

  /** One directory node per level over `children`; a level whose links are the previous level's (grouped levels, levels past every entry's finest) shares its node. */
  private async encode (children: Child[]): Promise<LevelTarget[]> {
    // the distinct levels: k is level variant[k] (k itself, or the level it shares a node with)
    const variant: number[] = []
    const distinct: number[] = []
    for (let k = 0; k < this.depth; k++) {
      if (k > 0 && children.every(c => c.targets[k] === c.targets[k - 1] || c.targets[k].cid.equals(c.targets[k - 1].cid))) {
        variant.push(variant[k - 1])
      } else {
        variant.push(distinct.length)
        distinct.push(k)
      }
    }
    const made: LevelTarget[] = []
    for await (const dir of buildUnixfsDirectoryVariants(children.map(c => c.name), distinct.map(k => children.map(c => c.targets[k])))) {
      made.push(await count(dir, this.stats, this.put))
    }
    return variant.map(v => made[v])
  }
}

/** Builds one directory, counts it in `stats` and hands its blocks to `put`. */
export async function buildDirectory (links: DirLink[], stats: LevelDirectoryStats, put: (block: Block) => Promise<void>): Promise<LevelTarget> {
  return await count(await buildUnixfsDirectory(links), stats, put)
}

async function count (dir: Awaited<ReturnType<typeof buildUnixfsDirectory>>, stats: LevelDirectoryStats, put: (block: Block) => Promise<void>): Promise<LevelTarget> {
  for (const b of dir.blocks) {
    stats.blocks++
    stats.bytes += b.bytes.byteLength
    await put(b)
  }
  if (dir.sharded) stats.sharded++
  return { cid: dir.cid, tsize: dir.tsize }
}
