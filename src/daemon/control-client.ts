import { request, Agent } from 'node:http'
import type { CID } from 'multiformats/cid'
import { MistError } from '../errors.js'
import { openLease, verifyBlock, type BlockStore, type Lease, type MirrorSelection } from '../repo/index.js'
import type { Block, AbortOptions } from '../types.js'
import { fromWire } from './wire-errors.js'

/**
 * A repo reached through the control socket of a running `mist-p2p serve`: the same
 * BlockStore interface as Repo, so publish, get and mirror work unchanged while the node runs.
 * Blocks read through it are verified here as well as by the node.
 */
export class ControlClient implements BlockStore {
  /** Blocks the daemon lacks come from its peers. */
  readonly remote = true
  private readonly agent = new Agent({ keepAlive: true, maxSockets: 64 })
  private lease?: Promise<Lease>

  constructor (readonly path: string, readonly socketPath: string, private readonly options: { blockTimeoutMs?: number, command?: string } = {}) {}

  /**
   * Before the first block this client reads, checks or writes, a pending lease in the repo: a gc
   * the node runs meanwhile spares every block used since (src/repo/leases.ts). Held until close.
   */
  private async leased (): Promise<void> {
    this.lease ??= openLease(this.path, this.options.command ?? 'library')
    await this.lease
  }

  private async call (method: string, route: string, body?: Uint8Array, signal?: AbortSignal): Promise<{ status: number, bytes: Buffer }> {
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path: route, method, agent: this.agent, signal, headers: body != null ? { 'content-length': body.byteLength } : {} }, res => {
        const chunks: Buffer[] = []
        res.on('data', (c: Buffer) => chunks.push(c))
        res.on('end', () => { resolve({ status: res.statusCode ?? 0, bytes: Buffer.concat(chunks) }) })
        res.on('error', reject)
      })
      req.on('error', (err: any) => {
        if (err?.name === 'AbortError') { reject(err); return }
        reject(new MistError(`cannot reach the running mist-p2p node at ${this.socketPath}: ${err?.message ?? err}`, { cause: err }))
      })
      req.end(body)
    })
  }

  private async json (method: string, route: string, body?: Uint8Array, signal?: AbortSignal): Promise<any> {
    const { status, bytes } = await this.call(method, route, body, signal)
    const parsed = bytes.byteLength > 0 ? JSON.parse(bytes.toString('utf8')) : {}
    if (status !== 200) throw fromWire(parsed)
    return parsed
  }

  async get (cid: CID, options: AbortOptions = {}): Promise<Uint8Array> {
    await this.leased()
    const q = this.options.blockTimeoutMs != null ? `?timeout=${this.options.blockTimeoutMs}` : ''
    const { status, bytes } = await this.call('GET', `/v1/block/${cid}${q}`, undefined, options.signal)
    if (status !== 200) throw fromWire(JSON.parse(bytes.toString('utf8')))
    const block = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)
    verifyBlock(cid, block, `${this.path}: `)
    return block
  }

  async has (cid: CID, options: AbortOptions = {}): Promise<boolean> {
    await this.leased()
    return (await this.call('HEAD', `/v1/block/${cid}`, undefined, options.signal)).status === 200
  }

  async putBlocks (blocks: Iterable<Block>, options: AbortOptions = {}): Promise<number> {
    await this.leased()
    let written = 0
    for (const block of blocks) {
      const res = await this.json('PUT', `/v1/block/${block.cid}`, block.bytes, options.signal)
      if (res.written === true) written += block.bytes.byteLength
    }
    return written
  }

  async pin (cid: CID, options: AbortOptions = {}): Promise<void> {
    await this.leased()
    await this.json('POST', `/v1/pin/${cid}`, undefined, options.signal)
  }

  async isPinned (cid: CID): Promise<boolean> {
    return (await this.json('GET', `/v1/pin/${cid}`)).pinned === true
  }

  async id (): Promise<Record<string, unknown>> {
    return this.json('GET', '/v1/id')
  }

  async dial (addr: string, options: AbortOptions = {}): Promise<void> {
    await this.json('POST', '/v1/dial', Buffer.from(JSON.stringify({ addr })), options.signal)
  }

  async recordMirror (cid: CID, selection: MirrorSelection): Promise<void> {
    await this.leased()
    await this.json('POST', `/v1/mirror/${cid}`, Buffer.from(JSON.stringify(selection)))
  }

  /** What the node's repo keeps (`ls`). */
  async holdings (options: AbortOptions = {}): Promise<unknown> {
    return this.json('GET', '/v1/holdings', undefined, options.signal)
  }

  /** Removes the pin and mirror record of a root. */
  async unpin (cid: CID, options: AbortOptions = {}): Promise<{ pin: boolean, mirror: boolean }> {
    return this.json('DELETE', `/v1/pin/${cid}`, undefined, options.signal)
  }

  /** Signs a name record in the node (it holds the identity key and serves the record). */
  async namePublish (cid: CID, name: string, options: { lifetimeMs?: number, description?: string } = {}): Promise<unknown> {
    return this.json('POST', `/v1/name/${cid}`, Buffer.from(JSON.stringify({ name, ...options })))
  }

  /** Resolves `<peer>/<name>` through the node's connected members. */
  async resolve (peer: string, name: string, options: AbortOptions = {}): Promise<unknown> {
    return this.json('GET', `/v1/resolve/${encodeURIComponent(peer)}/${encodeURIComponent(name)}`, undefined, options.signal)
  }

  /** What each member connected to the node keeps of a root. */
  async peerLevels (root: CID, options: AbortOptions = {}): Promise<Array<{ peer: string, levels?: 'full' | number | null }>> {
    return await this.json('GET', `/v1/holds/${root}`, undefined, options.signal)
  }

  /** The named datasets the node and its members offer. */
  async catalog (options: AbortOptions = {}): Promise<unknown> {
    return this.json('GET', '/v1/catalog', undefined, options.signal)
  }

  /** Runs gc in the node, beside its other work. */
  async gc (options: AbortOptions = {}): Promise<unknown> {
    return this.json('POST', '/v1/gc', undefined, options.signal)
  }

  async close (): Promise<void> {
    this.agent.destroy()
    const lease = this.lease
    this.lease = undefined
    if (lease != null) await (await lease.catch(() => undefined))?.release()
  }
}
