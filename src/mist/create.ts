import { CID } from 'multiformats/cid'
import { exportCar, importCar, type ExportCarOptions, type ImportCarResult } from '../car/index.js'
import { UsageError } from '../errors.js'
import type { NameJson, NamePublishOptions } from '../names/index.js'
import { readRepoConfig } from '../repo/index.js'
import { collectGarbage, listHoldings, type GcOptions, type GcResult, type Holding } from '../gc/index.js'
import { diffRoots, lookupEntry, mirrorLevel, type DatasetDiff, type DiffOptions, openRoot, planPins, type AnyRoot, type PinPlan, type PinPlanOptions, type FetchBlocksOptions, type MirrorResult } from '../level/index.js'
import { publish, type PublishOptions, type PublishResult } from '../publish/index.js'
import type { BlockStore } from '../repo/index.js'
import { getImage, getVolume, retrieve, type GetOptions, type ImageResult, type RetrieveOptions, type RetrieveResult, type VolumeResult, type VolumeSliceOptions } from '../retrieve/index.js'
import type { OperationOptions, ProgressEvent } from '../types.js'
import { dropCorruptBlocks, verifyRoot, type VerifyOptions, type VerifyResult } from '../verify/index.js'
import { openStore, type OpenStoreOptions } from './open-store.js'
import type { ServeOptions, Serving } from './serve.js'

export interface MistOptions extends OpenStoreOptions {}

/** mist-p2p as a library: one repo, offline or with peers, or beside a running `serve`. */
export interface Mist {
  /** Where blocks are read and written: the repo, the repo plus peers, or a running `serve`. */
  readonly store: BlockStore
  /** Publishes files and directories; the dataset root is pinned. */
  publish: (paths: string[], options?: Omit<PublishOptions, 'repo'>) => Promise<PublishResult>
  /** Writes the selected level of a root (image, volume or dataset) as image files. */
  get: (cid: CID, options?: RetrieveOptions) => Promise<RetrieveResult>
  /** The pixels of one image at the selected level. */
  getImage: (cid: CID, options?: GetOptions) => Promise<ImageResult>
  /** Every slice of a volume at the selected level, held in memory. */
  getVolume: (cid: CID, options?: GetOptions & VolumeSliceOptions) => Promise<VolumeResult>
  /** A root as stored (or the dataset entry `path` names): kind, dimensions, the bytes of each level. */
  info: (cid: CID, options?: OperationOptions & { path?: string }) => Promise<AnyRoot>
  /** Keeps a root fully (pinned) or up to a level (a mirror record), fetching what is missing. */
  mirror: (cid: CID, options?: Omit<FetchBlocksOptions, 'levelFiles'> & { follow?: string }) => Promise<MirrorResult>
  /** What an IPFS fleet (Kubo, IPFS Cluster) pins to hold exactly levels 0..K: level files recursively, roots and index directly. */
  pinPlan: (cid: CID, options?: PinPlanOptions) => Promise<PinPlan>
  /** Exactly the blocks of a level as a CAR file. */
  export: (cid: CID, path: string, options?: ExportCarOptions) => ReturnType<typeof exportCar>
  /** Loads a CAR file, verified block by block. */
  import: (path: string, options?: OperationOptions<ProgressEvent<'car:block', { bytes: number }>>) => Promise<ImportCarResult>
  /** Checks every block and level decode; problems are listed, not thrown. */
  verify: (cid: CID, options?: VerifyOptions) => Promise<VerifyResult>
  /** Entries added, removed and changed between two versions of a dataset, and the bytes per level a mirror fetches to follow. */
  diff: (oldCid: CID, newCid: CID, options?: DiffOptions) => Promise<DatasetDiff>
  /** Points `<this node's peer ID>/<name>` at a root: a signed IPNS record with the next sequence number. */
  namePublish: (cid: CID, name: string, options?: NamePublishOptions) => Promise<NameJson>
  /** The newest valid record of `<peer-id>/<name>` (or `<alias>/<name>`) from this repo and the connected members. */
  resolve: (text: string, options?: OperationOptions) => Promise<NameJson>
  /** A command's target: `<cid>[/<path>]`, or a name `<peer-id|alias>/<name>[/<path>]` resolved to its root. */
  target: (text: string, options?: OperationOptions) => Promise<{ cid: CID, path?: string, name?: NameJson }>
  /** Keeps the newest version of a name mirrored up to a level (mist/follow.ts). */
  follow: (text: string, options?: import('./follow.js').FollowOptions & { onError?: (err: Error) => void }) => Promise<import('./follow.js').FollowRound | undefined>
  /** The named datasets this node and the connected members offer: name, root, sequence, description, bytes per level, who holds which levels. */
  catalog: (options?: OperationOptions) => Promise<{ entries: import('./catalog.js').CatalogItem[], refused: string[] }>
  /** What the repo keeps: its pins and mirror records, with the levels held and their bytes. */
  ls: (options?: OperationOptions) => Promise<Holding[]>
  /** Removes the pin and the mirror record of a root; its blocks go at the next `gc`. */
  unpin: (cid: CID) => Promise<{ pin: boolean, mirror: boolean }>
  /** Removes every block no pin or mirror record keeps (through a running `serve`: by it, beside its work). */
  gc: (options?: GcOptions) => Promise<GcResult>
  /** Serves the repo to the private network until `stop` (not possible beside another running `serve`). */
  serve: (options?: ServeOptions) => Promise<Omit<Serving, 'stop' | 'store'>>
  /** The HTTP gateway URL of the `serve` running on this repo (this process's or another's), if it has one. */
  gatewayUrl: () => Promise<string | undefined>
  /** Stops the node (if any) and releases the repo. */
  stop: () => Promise<void>
}

async function info (store: BlockStore, cid: CID, options: OperationOptions & { path?: string }): Promise<AnyRoot> {
  const top = await openRoot(store, cid, options)
  if (options.path == null) return top
  if (top.kind !== 'dataset') throw new UsageError(`${cid} is ${top.kind === 'image' ? 'an image' : 'a volume'} root: a path names an entry of a dataset`)
  const entry = await lookupEntry(store, top, options.path, options)
  if (entry == null) throw new UsageError(`${cid} has no entry "${options.path}" (a sub-directory has no root of its own: give one entry)`)
  return await openRoot(store, entry.root, options)
}

/**
 * Opens a repo for library use, like helia's createHelia: with `peers` (or peers in the repo
 * config) missing blocks are fetched from them; beside a running `mist-p2p serve` every call
 * goes through its control socket.
 */
export async function createMist (options: MistOptions = {}): Promise<Mist> {
  const opened = await openStore(options)
  let store: BlockStore = opened.store
  let serving: Serving | undefined
  const mist: Mist = {
    get store () { return store },
    publish: async (paths, o = {}) => publish(paths, { ...o, repo: store }),
    get: async (cid, o) => retrieve(store, cid, o),
    getImage: async (cid, o) => getImage(store, cid, o),
    getVolume: async (cid, o) => getVolume(store, cid, o),
    info: async (cid, o = {}) => info(store, cid, o),
    mirror: async (cid, o) => mirrorLevel(store, cid, o),
    pinPlan: async (cid, o) => planPins(store, cid, o),
    export: async (cid, path, o) => exportCar(store, cid, path, o),
    import: async (path, o) => importCar(store, path, o),
    verify: async (cid, o = {}) => {
      if (o.dropCorrupt === true && opened.repo == null) throw new UsageError('verify --drop-corrupt removes blocks from the repo itself: stop the `serve` running on it, then run it again')
      const result = await verifyRoot(store, cid, o)
      if (o.dropCorrupt === true) result.dropped = await dropCorruptBlocks(opened.repo!, result)
      return result
    },
    diff: async (a, b, o) => diffRoots(store, a, b, o),
    catalog: async (o = {}) => {
      if (opened.repo == null) return await opened.control!.catalog(o) as any
      const { catalog } = await import('./catalog.js')
      return await catalog(opened.repo, store, opened.node ?? (store as { node?: import('../node/index.js').MistNode }).node, o)
    },
    follow: async (text, o = {}) => {
      const { followLoop, followOnce } = await import('./follow.js')
      return await followLoop(async () => followOnce(mist, text, o), o)
    },
    namePublish: async (cid, name, o = {}) => {
      if (opened.repo == null) return await opened.control!.namePublish(cid, name, o) as NameJson
      // names load the ipns and peer-id code only when used
      const { nameToJson, publishName } = await import('../names/index.js')
      const { loadOrCreateIdentity } = await import('../node/identity.js')
      return nameToJson(await publishName(opened.repo, opened.repo.datastore, await loadOrCreateIdentity(opened.repo.path), cid, name, o))
    },
    resolve: async (text, o = {}) => {
      const { nameToJson, parseTargetText, resolveName } = await import('../names/index.js')
      const t = parseTargetText(text, (await readRepoConfig(store.path)).aliases)
      if (!('peer' in t)) throw new UsageError(`"${text}" is a CID, not a name: give <peer-id>/<name>`)
      if (opened.repo == null) return await opened.control!.resolve(t.peer, t.name, o) as NameJson
      const node = opened.node
      const { askNames } = node != null ? await import('../node/name-protocol.js') : { askNames: undefined }
      return nameToJson(await resolveName(opened.repo.datastore, t.peer, t.name, node != null ? async (key, a) => askNames!(node.helia.libp2p, key, a) : undefined, o))
    },
    target: async (text, o = {}) => {
      const plain = text.trim().replace(/\/+$/, '')
      const slash = plain.indexOf('/')
      try {
        const cid = CID.parse(slash < 0 ? plain : plain.slice(0, slash))
        return slash < 0 ? { cid } : { cid, path: plain.slice(slash + 1) }
      } catch {}
      const { parseTargetText } = await import('../names/index.js')
      const t = parseTargetText(text, (await readRepoConfig(store.path)).aliases)
      if ('cid' in t) return t
      const name = await mist.resolve(`${t.peer}/${t.name}`, o)
      return { cid: CID.parse(name.root), path: t.path, name }
    },
    ls: async (o = {}) => opened.repo != null ? listHoldings(opened.repo, o) : await opened.control!.holdings(o) as Holding[],
    unpin: async cid => {
      const removed = opened.repo != null ? await opened.repo.unpin(cid) : await opened.control!.unpin(cid)
      if (!removed.pin && !removed.mirror) throw new UsageError(`${cid} is neither pinned nor mirrored in ${store.path} (\`mist-p2p ls\` lists what it keeps)`)
      return removed
    },
    gc: async (o = {}) => opened.repo != null ? collectGarbage(opened.repo, o) : await opened.control!.gc(o) as GcResult,
    serve: async (o) => {
      if (opened.repo == null) throw new UsageError(`${store.path} is already served by a running \`mist-p2p serve\``)
      if (serving != null) throw new UsageError(`${store.path} is already being served by this process`)
      if (store !== opened.repo) throw new UsageError('serve needs a Mist opened without peers (give the peers to serve instead)')
      // libp2p and Helia load only when a node starts (about 1 s and tens of MiB for every other command)
      const { startServing } = await import('./serve.js')
      serving = await startServing(opened.repo, o)
      store = serving.store
      return { peerId: serving.peerId, multiaddrs: serving.multiaddrs, http: serving.http }
    },
    gatewayUrl: async () => {
      if (serving != null) return serving.http
      if (opened.repo != null) return undefined
      const id = await (store as BlockStore & { id?: () => Promise<Record<string, unknown>> }).id?.()
      return typeof id?.http === 'string' ? id.http : undefined
    },
    stop: async () => {
      try { await serving?.stop() } finally { await opened.close() }
    }
  }
  return mist
}
