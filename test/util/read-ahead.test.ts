/**
 * readAhead: results in input order, at most `depth` calls running, a failure thrown at its
 * own turn (not before the results ahead of it), nothing started past an early stop but the
 * calls already in flight, and no unhandled rejection from those.
 */
import { describe, expect, it } from 'vitest'
import { readAhead } from '../../src/util/read-ahead.js'

const sleep = async (ms: number): Promise<void> => { await new Promise(resolve => setTimeout(resolve, ms)) }

describe('readAhead', () => {
  it('yields in input order with at most `depth` calls in flight, however the calls finish', async () => {
    let running = 0
    let peak = 0
    const started: number[] = []
    const items = Array.from({ length: 20 }, (_, i) => i)
    const got: number[] = []
    for await (const v of readAhead(items, async (x, i) => {
      started.push(i)
      running++
      peak = Math.max(peak, running)
      await sleep((x * 7) % 5) // later items often finish first
      running--
      return x * 10
    }, 4)) got.push(v)
    expect(got).toEqual(items.map(x => x * 10))
    expect(started).toEqual(items)
    expect(peak).toBe(4)
  })

  it('throws a failed call at its turn, after the results before it', async () => {
    const got: number[] = []
    const run = async (): Promise<void> => {
      for await (const v of readAhead([0, 1, 2, 3], async x => {
        if (x === 2) throw new RangeError('item 2')
        await sleep(5)
        return x
      }, 3)) got.push(v)
    }
    await expect(run()).rejects.toThrow(/item 2/)
    expect(got).toEqual([0, 1])
  })

  it('starts nothing more after an early stop, and a rejected call left in flight is not unhandled', async () => {
    const unhandled: unknown[] = []
    const onUnhandled = (err: unknown): void => { unhandled.push(err) }
    process.on('unhandledRejection', onUnhandled)
    try {
      const started: number[] = []
      for await (const v of readAhead([0, 1, 2, 3, 4, 5], async x => {
        started.push(x)
        if (x > 0) throw new Error(`never taken ${x}`)
        return x
      }, 3)) {
        expect(v).toBe(0)
        break
      }
      await sleep(20)
      expect(started).toEqual([0, 1, 2, 3])
      expect(unhandled).toEqual([])
    } finally {
      process.off('unhandledRejection', onUnhandled)
    }
  })

  it('depth below 1 still reads one at a time; no items gives nothing', async () => {
    const got: string[] = []
    for await (const v of readAhead(['a', 'b'], async x => x, 0)) got.push(v)
    expect(got).toEqual(['a', 'b'])
    for await (const v of readAhead([], async x => x, 4)) got.push(v as string)
    expect(got).toEqual(['a', 'b'])
  })
})
