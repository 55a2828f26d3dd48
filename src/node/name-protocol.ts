/**
 * `/mist/names/1.0.0`: ask a connected member for the name record it holds for `<peer>/<name>`.
 * Request: one length-prefixed UTF-8 message `<peer-id>/<name>` (at most 256 bytes). Response: a
 * one-byte status message (`0` held, `1` not held), and after `0` two length-prefixed messages, the
 * IPNS record (at most 10 KiB) and the name manifest (at most 4 KiB). The node checks nothing here:
 * the resolver checks the signature, validity and manifest of every answer (src/names/).
 */
import type { Libp2p, Stream } from '@libp2p/interface'
import { lpStream } from '@libp2p/utils'

export const NAME_PROTOCOL = '/mist/names/1.0.0'
const MAX_REQUEST = 256
const MAX_ANSWER = 10 * 1024 + 64
const HELD = 0
const NOT_HELD = 1
const LIST = 2
/** The request for the list of everything a member holds (`catalog`). */
export const LIST_REQUEST = '*'
/** Bytes of a list answer (at most 128 names of a record, a manifest and what the member holds). */
export const MAX_LIST_BYTES = 4 * 1024 * 1024

export interface NameAnswer { record: Uint8Array, manifest: Uint8Array }

const HOLDS = 3
/** A request `?<root CID>`: what the member keeps of that root. */
const HOLDS_PREFIX = '?'

/** Serves the records `lookup` holds (`list()` for `*`, `holds(root)` for `?<root>`); a malformed request resets its stream. */
export async function handleNames (libp2p: Libp2p, lookup: (key: string) => Promise<NameAnswer | undefined>, list?: () => Promise<Uint8Array>, holds?: (root: string) => Promise<'full' | number | null>): Promise<void> {
  await libp2p.handle(NAME_PROTOCOL, async (stream: Stream) => {
    const lp = lpStream(stream, { maxDataLength: MAX_REQUEST })
    try {
      const signal = AbortSignal.timeout(5_000)
      const key = new TextDecoder('utf-8', { fatal: true }).decode((await lp.read({ signal })).subarray())
      if (key.startsWith(HOLDS_PREFIX) && holds != null) {
        await lp.writeV([Uint8Array.of(HOLDS), new TextEncoder().encode(JSON.stringify(await holds(key.slice(1))))], { signal })
        await stream.close({ signal }).catch(() => {})
        return
      }
      if (key === LIST_REQUEST && list != null) {
        await lp.writeV([Uint8Array.of(LIST), await list()], { signal })
        await stream.close({ signal }).catch(() => {})
        return
      }
      const answer = await lookup(key)
      if (answer == null) await lp.write(Uint8Array.of(NOT_HELD), { signal })
      else await lp.writeV([Uint8Array.of(HELD), answer.record, answer.manifest], { signal })
      await stream.close({ signal }).catch(() => {})
    } catch (err: any) {
      stream.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }, { maxInboundStreams: 4, maxOutboundStreams: 4 })
}

type Lp = ReturnType<typeof lpStream>

/**
 * Asks every connected peer one question of NAME_PROTOCOL at once (one stream each, bounded by
 * `timeoutMs`): `ask` writes the request and reads the answer; a failed peer gets `onError`'s result.
 */
async function askEveryPeer<T> (libp2p: Libp2p, options: { timeoutMs: number, signal?: AbortSignal, maxDataLength: number }, ask: (lp: Lp, signal: AbortSignal) => Promise<T>, onError: (err: any) => T): Promise<Array<{ peer: string } & T>> {
  const conns = new Map<string, ReturnType<Libp2p['getConnections']>[number]>()
  for (const c of libp2p.getConnections()) if (c.status === 'open' && !conns.has(c.remotePeer.toString())) conns.set(c.remotePeer.toString(), c)
  return await Promise.all([...conns].map(async ([peer, conn]) => {
    const signal = options.signal != null ? AbortSignal.any([options.signal, AbortSignal.timeout(options.timeoutMs)]) : AbortSignal.timeout(options.timeoutMs)
    try {
      const stream = await conn.newStream(NAME_PROTOCOL, { signal })
      const got = await ask(lpStream(stream, { maxDataLength: options.maxDataLength }), signal)
      await stream.close().catch(() => {})
      return { peer, ...got }
    } catch (err: any) {
      return { peer, ...onError(err) }
    }
  }))
}

const unanswered = (err: any): { error: string } => ({ error: err?.name === 'UnsupportedProtocolError' ? 'does not serve names' : String(err?.message ?? err) })

/** Asks every connected peer for `key` at once; the answers that came within `timeoutMs`, by peer. */
export async function askNames (libp2p: Libp2p, key: string, options: { timeoutMs?: number, signal?: AbortSignal } = {}): Promise<Array<{ peer: string, answer?: NameAnswer, error?: string }>> {
  return await askEveryPeer<{ answer?: NameAnswer, error?: string }>(libp2p, { timeoutMs: options.timeoutMs ?? 5_000, signal: options.signal, maxDataLength: MAX_ANSWER }, async (lp, signal) => {
    await lp.write(new TextEncoder().encode(key), { signal })
    const status = (await lp.read({ signal })).subarray()
    if (status.byteLength !== 1 || status[0] === NOT_HELD) return {}
    const record = (await lp.read({ signal })).subarray()
    const manifest = (await lp.read({ signal })).subarray()
    return { answer: { record, manifest } }
  }, unanswered)
}

/** Asks every connected peer for the list of what it holds (`catalog`): each peer's list bytes, unchecked. */
export async function askLists (libp2p: Libp2p, options: { timeoutMs?: number, signal?: AbortSignal } = {}): Promise<Array<{ peer: string, list?: Uint8Array, error?: string }>> {
  return await askEveryPeer<{ list?: Uint8Array, error?: string }>(libp2p, { timeoutMs: options.timeoutMs ?? 10_000, signal: options.signal, maxDataLength: MAX_LIST_BYTES }, async (lp, signal) => {
    await lp.write(new TextEncoder().encode(LIST_REQUEST), { signal })
    const status = (await lp.read({ signal })).subarray()
    if (status.byteLength !== 1 || status[0] !== LIST) return { list: undefined }
    return { list: (await lp.read({ signal })).subarray() }
  }, unanswered)
}

/** Asks every connected peer what it keeps of `root`: 'full', a level, null (nothing), or undefined (no answer). */
export async function askHolds (libp2p: Libp2p, root: string, options: { timeoutMs?: number, signal?: AbortSignal } = {}): Promise<Array<{ peer: string, levels?: 'full' | number | null }>> {
  return await askEveryPeer<{ levels?: 'full' | number | null }>(libp2p, { timeoutMs: options.timeoutMs ?? 5_000, signal: options.signal, maxDataLength: 64 }, async (lp, signal) => {
    await lp.write(new TextEncoder().encode(HOLDS_PREFIX + root), { signal })
    const status = (await lp.read({ signal })).subarray()
    if (status.byteLength !== 1 || status[0] !== HOLDS) return {}
    const v = JSON.parse(new TextDecoder().decode((await lp.read({ signal })).subarray()))
    return { levels: v === 'full' || v === null || (Number.isInteger(v) && v >= 0) ? v : undefined }
  }, () => ({}))
}
