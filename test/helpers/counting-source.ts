import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../../src/repo/index.js'

/** Wraps a block source and records every block read (instrumented blockstore). */
export class CountingSource implements BlockSource {
  readonly reads: Array<{ cid: string, bytes: number }> = []
  constructor (private readonly inner: BlockSource) {}
  async get (cid: CID, options?: { signal?: AbortSignal }): Promise<Uint8Array> {
    const bytes = await this.inner.get(cid, options)
    this.reads.push({ cid: cid.toString(), bytes: bytes.byteLength })
    return bytes
  }

  async has (cid: CID, options?: { signal?: AbortSignal }): Promise<boolean> {
    return this.inner.has(cid, options)
  }

  get bytes (): number { return this.reads.reduce((n, r) => n + r.bytes, 0) }
  reset (): void { this.reads.length = 0 }
}
