import { CID } from 'multiformats/cid'
import { describe, expect, it } from 'vitest'
import { Writable } from 'node:stream'
import { JsonList, jsonText, printJsonPaced } from '../../src/cli/common.js'

const cid = CID.parse('bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy')
const reference = (v: unknown): string => JSON.stringify(v, (_k, x) => (x instanceof CID ? x.toString() : x), 2) + '\n'

describe('jsonText', () => {
  it('writes exactly what JSON.stringify writes, long arrays an element at a time', () => {
    const item = (i: number): unknown => ({ path: `a/b-${i}.png`, root: cid, levels: [{ level: 0, width: 8, height: 8 }], extra: undefined, nested: { list: [1, [2, 3]], text: 'line\nbreak' } })
    const values = [
      { root: cid, items: Array.from({ length: 300 }, (_, i) => item(i)), failures: [], warnings: Array.from({ length: 1000 }, (_, i) => i % 2 === 0 ? `w${i}` : null), skipped: undefined, bytesWritten: 5 },
      { outputs: Array.from({ length: 257 }, (_, i) => ({ paths: [`o/${i}.png`], spacing: [0.5, 0.5] })) },
      { only: Array.from({ length: 400 }, () => []) },
      { short: [1, 2, 3], root: cid },
      [1, 2, 3],
      'text',
      null
    ]
    for (const v of values) {
      const chunks: string[] = []
      expect(jsonText(v)).toBe(reference(v))
      jsonText(v, c => { chunks.push(c) })
      expect(chunks.join('')).toBe(reference(v))
      if ((v as any)?.items != null) expect(chunks.length).toBeGreaterThan(300)
    }
  })

  it('writes a JsonList as the array it makes, one element at a time, whatever its length', () => {
    for (const n of [0, 1, 3, 300]) {
      let made = 0
      const each = function * (): Generator<unknown> { for (let i = 0; i < n; i++) { made++; yield { i, root: cid } } }
      const array = Array.from({ length: n }, (_, i) => ({ i, root: cid }))
      const chunks: string[] = []
      jsonText({ root: cid, images: new JsonList(n, each), failures: [] }, c => { chunks.push(c) })
      expect(chunks.join('')).toBe(reference({ root: cid, images: array, failures: [] }))
      expect(made).toBe(n)
      if (n > 0) expect(chunks.length).toBeGreaterThan(n)
      // nested, or the whole value: JSON.stringify's toJSON
      expect(jsonText([new JsonList(n, each)])).toBe(reference([array]))
    }
  })

  it('printJsonPaced writes the same bytes, never queueing much more than a batch behind a slow reader', async () => {
    const n = 5000
    const each = function * (): Generator<unknown> { for (let i = 0; i < n; i++) yield { i, root: cid, name: `folder-${i % 7}/case-${i}.png` } }
    const value = { root: cid, images: new JsonList(n, each), failures: [] }
    const got: string[] = []
    let queuedMax = 0
    const slow = new Writable({
      highWaterMark: 16 * 1024,
      write (chunk, _enc, done) { got.push(chunk.toString()); setTimeout(done, 1) }
    })
    const write = slow.write.bind(slow)
    slow.write = ((chunk: any, ...rest: any[]) => { const r = write(chunk, ...rest); queuedMax = Math.max(queuedMax, slow.writableLength); return r }) as any
    await printJsonPaced(value, slow)
    await new Promise<void>(resolve => slow.end(resolve))
    const text = got.join('')
    expect(text).toBe(jsonText(value))
    expect(text.length).toBeGreaterThan(500_000)
    // one batch (64 KiB of text) past the high-water mark at most, not the whole document
    expect(queuedMax).toBeLessThan(200 * 1024)
  })
})
