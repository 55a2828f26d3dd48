/**
 * BlockExchange's own deadline: a fetch the peers never answer gives up after `timeoutMs` (a plain
 * timer per waiter, cleared on arrival), so the caller falls back to bitswap or reports the block
 * missing; the caller's abort still rejects.
 */
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { BlockExchange } from '../../src/node/block-exchange.js'

// one open connection whose streams never open: a peer that accepted the connection and went silent
const silentLibp2p = (): any => ({
  getConnections: () => [{ status: 'open', remotePeer: { toString: () => 'silent-peer' }, newStream: async () => await new Promise(() => {}) }]
})

const cidOf = async (text: string): Promise<CID> => CID.createV1(0x55, await sha256.digest(new TextEncoder().encode(text)))

describe('BlockExchange deadline', () => {
  it('resolves undefined after timeoutMs when no peer answers', async () => {
    const exchange = new BlockExchange(silentLibp2p())
    const started = performance.now()
    const got = await exchange.fetch(await cidOf('a'), { timeoutMs: 300, sizeHint: 100 })
    expect(got).toBeUndefined()
    expect(performance.now() - started).toBeGreaterThanOrEqual(290)
    expect(performance.now() - started).toBeLessThan(3000)
    exchange.stop()
  })

  it('each waiter of a shared want keeps its own deadline, and an abort still rejects', async () => {
    const exchange = new BlockExchange(silentLibp2p())
    const cid = await cidOf('b')
    const controller = new AbortController()
    const short = exchange.fetch(cid, { timeoutMs: 200 })
    const aborted = exchange.fetch(cid, { signal: controller.signal })
    const long = exchange.fetch(cid, { timeoutMs: 60_000 })
    expect(await short).toBeUndefined()
    controller.abort(new Error('stop'))
    await expect(aborted).rejects.toThrow('stop')
    exchange.stop() // settles what is left
    expect(await long).toBeUndefined()
  })
})
