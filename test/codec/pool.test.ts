/**
 * CodecPool: same bytes as the in-thread codec, recycling, abort, crashes, close.
 */
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, describe, expect, it } from 'vitest'
import { CodecError } from '../../src/errors.js'
import { encodePng, encodePngOnPool } from '../../src/formats/index.js'
import type { RasterImage, SampleArray } from '../../src/types.js'
import { CodecPool, decodeHTJ2K, encodeHTJ2K, getDefaultPool, synthesizeImage as synth } from '../../src/codec/index.js'

const run = promisify(execFile)

function bytesOf (a: SampleArray): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
}

function sameImage (a: RasterImage, b: RasterImage): boolean {
  return a.width === b.width && a.height === b.height && a.components === b.components &&
    a.bitsStored === b.bitsStored && a.signed === b.signed && a.data.constructor === b.data.constructor &&
    Buffer.compare(bytesOf(a.data), bytesOf(b.data)) === 0
}

const images: RasterImage[] = [
  synth(512, 512, 16, true, 1, 1),
  synth(513, 257, 12, false, 1, 2),
  synth(300, 200, 8, false, 1, 3),
  synth(130, 70, 8, true, 1, 4),
  synth(160, 120, 8, false, 3, 5),
  synth(3, 1000, 12, false, 1, 6),
  synth(1000, 3, 16, true, 1, 7),
  synth(1, 1, 1, false, 1, 8),
  synth(700, 500, 10, false, 1, 9),
  synth(256, 256, 16, false, 1, 10),
  synth(100, 90, 1, false, 1, 11),
  synth(640, 480, 12, true, 1, 12)
]

const tmp = mkdtempSync(path.join(os.tmpdir(), 'mist-codec-pool-'))
afterAll(() => { rmSync(tmp, { recursive: true, force: true }) })

describe('CodecPool', () => {
  it('encodes and decodes many images in parallel with the same results as the calling thread', async () => {
    const pool = new CodecPool({ size: 2 })
    try {
      const expected = await Promise.all(images.map(async (im) => await encodeHTJ2K(im)))
      const got = await Promise.all(images.map(async (im) => await pool.encode(im)))
      got.forEach((bytes, i) => { expect(Buffer.compare(bytes, expected[i])).toBe(0) })
      const decoded = await Promise.all(got.map(async (c, i) => await pool.decode(c, { reduce: i % 2 })))
      for (let i = 0; i < images.length; i++) {
        expect(sameImage(decoded[i], await decodeHTJ2K(expected[i], { reduce: i % 2 }))).toBe(true)
      }
      const s = pool.stats()
      expect(s.workers).toBe(2)
      expect(s.jobs).toBe(2 * images.length)
      expect(s.recycles).toBe(0)
    } finally {
      await pool.close()
    }
  })

  it('encodes PNG on a worker: the same bytes as encodePng(), layout errors thrown before a worker is asked', async () => {
    const pool = new CodecPool({ size: 2 })
    try {
      const unsigned = images.filter(im => !im.signed && im.bitsStored <= 16)
      const got = await Promise.all(unsigned.map(async im => await encodePngOnPool(pool, im)))
      got.forEach((bytes, i) => { expect(Buffer.compare(bytes, encodePng(unsigned[i]))).toBe(0) })
      const jobs = pool.stats().jobs
      const signed = images.find(im => im.signed)!
      await expect(encodePngOnPool(pool, signed)).rejects.toMatchObject({ name: 'UnsupportedInputError', message: expect.stringMatching(/signed .* cannot be stored in PNG/) })
      expect(pool.stats().jobs).toBe(jobs)
      const copy = unsigned[0].data.slice()
      const moved = await encodePngOnPool(pool, { ...unsigned[0], data: copy }, { transfer: true })
      expect(copy.byteLength).toBe(0)
      expect(Buffer.compare(moved, got[0])).toBe(0)
    } finally {
      await pool.close()
    }
  })

  it('leaves the caller\'s arrays intact by default and detaches them with transfer: true', async () => {
    const pool = new CodecPool({ size: 1 })
    try {
      const image = synth(64, 64, 12, false)
      const copy = image.data.slice()
      const a = await pool.encode(image)
      expect(Buffer.compare(bytesOf(image.data), bytesOf(copy))).toBe(0)
      const b = await pool.encode({ ...image, data: copy }, { transfer: true })
      expect(copy.byteLength).toBe(0) // detached: the buffer went to the worker
      expect(Buffer.compare(a, b)).toBe(0)
    } finally {
      await pool.close()
    }
  })

  it('recycles workers whose heap exceeds maxHeapBytes and stays correct', async () => {
    const pool = new CodecPool({ size: 2, maxHeapBytes: 1 })
    try {
      const expected = await Promise.all(images.map(async (im) => await encodeHTJ2K(im)))
      for (let round = 0; round < 2; round++) {
        const got = await Promise.all(images.map(async (im) => await pool.encode(im)))
        got.forEach((bytes, i) => { expect(Buffer.compare(bytes, expected[i])).toBe(0) })
      }
      const s = pool.stats()
      expect(s.recycles).toBe(2 * images.length)
      expect(s.lastRecycledHeapBytes).toBeGreaterThan(1)
      expect(s.crashes).toBe(0)
    } finally {
      await pool.close()
    }
  })

  it('recycles only a worker whose heap grew: a 3000x3000 image grows it past its initial size, the new worker starts small', async () => {
    const probe = new CodecPool({ size: 1 })
    await probe.encode(images[7])
    const maxHeapBytes = probe.stats().heapBytes[0] // the initial heap: any growth triggers recycling
    await probe.close()
    const pool = new CodecPool({ size: 1, maxHeapBytes })
    try {
      const big = synth(3000, 3000, 12, false)
      const small = images[2]
      await pool.encode(small)
      expect(pool.stats().recycles).toBe(0) // a small image does not grow the heap
      const heapBefore = pool.stats().heapBytes[0]
      expect(heapBefore).toBeLessThanOrEqual(maxHeapBytes)
      const bytes = await pool.encode(big)
      expect(pool.stats().recycles).toBe(1)
      expect(pool.stats().lastRecycledHeapBytes).toBeGreaterThan(maxHeapBytes)
      expect(pool.stats().workers).toBe(0)
      expect(Buffer.compare(await pool.encode(small), await encodeHTJ2K(small))).toBe(0)
      expect(pool.stats().heapBytes[0]).toBe(heapBefore) // the replacement starts with a small heap
      expect(sameImage(await pool.decode(bytes), big)).toBe(true)
      console.log(`heap: ${heapBefore} B at start, ${pool.stats().lastRecycledHeapBytes} B when recycled, ${pool.stats().heapBytes.join(', ')} B in the replacement`)
    } finally {
      await pool.close()
    }
  })

  it('rejects an aborted queued job, stops the worker of an aborted running job, and keeps working', async () => {
    const pool = new CodecPool({ size: 1 })
    try {
      const big = synth(2048, 1024, 16, true)
      const running = new AbortController()
      const queued = new AbortController()
      const first = pool.encode(big, { signal: running.signal })
      const second = pool.encode(big, { signal: queued.signal })
      const third = pool.encode(images[2])
      queued.abort()
      running.abort()
      await expect(first).rejects.toMatchObject({ name: 'AbortError' })
      await expect(second).rejects.toMatchObject({ name: 'AbortError' })
      expect(Buffer.compare(await third, await encodeHTJ2K(images[2]))).toBe(0)
      const pre = new AbortController()
      pre.abort()
      await expect(pool.decode(await third, { signal: pre.signal })).rejects.toMatchObject({ name: 'AbortError' })
      // the aborted running job's worker was stopped, not left busy: only the third job finished
      expect(pool.stats().jobs).toBe(1)
      expect(pool.stats().recycles).toBeGreaterThanOrEqual(1)
    } finally {
      await pool.close()
    }
  })

  it('leaves the caller\'s buffer intact when the input is a view into a larger Node Buffer', async () => {
    const pool = new CodecPool({ size: 1 })
    try {
      const cs = await encodeHTJ2K(images[2])
      const file = Buffer.concat([Buffer.from('header'), Buffer.from(cs), Buffer.from('trailer')])
      const view = file.subarray(6, 6 + cs.length)
      const decoded = await pool.decode(view)
      expect(decoded.width).toBe(images[2].width)
      // not detached: the whole file is still readable
      expect(file.byteLength).toBe(cs.length + 13)
      expect(file.subarray(file.length - 7).toString()).toBe('trailer')
    } finally {
      await pool.close()
    }
  })

  it('stops a job that runs past its time limit, replaces the worker and keeps working', async () => {
    const pool = new CodecPool({ size: 1 })
    try {
      const big = synth(2048, 2048, 16, false)
      await expect(pool.encode(big, { timeoutMs: 1 })).rejects.toMatchObject({ name: 'CodecError', message: expect.stringContaining('took longer than') })
      expect(Buffer.compare(await pool.encode(images[2]), await encodeHTJ2K(images[2]))).toBe(0)
    } finally {
      await pool.close()
    }
  })

  it('passes codec errors through as CodecError', async () => {
    const pool = new CodecPool({ size: 1 })
    try {
      const bad = { ...images[2], bitsStored: 20 }
      const err = await pool.encode(bad).catch((e: unknown) => e)
      expect(err).toBeInstanceOf(CodecError)
      expect((err as Error).message).toMatch(/at most 16 bits/)
      await expect(pool.decode(new Uint8Array([1, 2, 3]))).rejects.toThrow(/invalid HTJ2K codestream header/)
      expect(pool.stats().crashes).toBe(0)
    } finally {
      await pool.close()
    }
  })

  it('replaces a crashed worker and rejects its job with a CodecError', async () => {
    // A worker script that dies on its first job.
    const script = path.join(tmp, 'crashing-worker.mjs')
    writeFileSync(script, "import { parentPort } from 'node:worker_threads'\nparentPort.on('message', () => { process.exit(7) })\n")
    const pool = new CodecPool({ size: 1, workerUrl: pathToFileURL(script) })
    try {
      const a = pool.encode(images[2])
      const b = pool.encode(images[3])
      for (const p of [a, b]) {
        const err = await p.catch((e: unknown) => e)
        expect(err).toBeInstanceOf(CodecError)
        expect((err as Error).message).toMatch(/codec worker crashed while running a encode job \(it exited with code 7\)/)
      }
      expect(pool.stats().crashes).toBe(2)
    } finally {
      await pool.close()
    }
  })

  it('preload() starts every worker and has each import the module once, before any job; a replacement imports it too', async () => {
    // a job module that notes each import of itself (one line per worker) in the file named by its URL's query
    const log = path.join(tmp, 'preload.log')
    const probe = path.join(tmp, 'preload-probe.mjs')
    writeFileSync(probe, "import { appendFileSync } from 'node:fs'\nappendFileSync(new URL(import.meta.url).searchParams.get('log'), 'imported\\n')\nexport function runJob (image) { return new Uint8Array([image.width % 256]) }\n")
    const url = `${pathToFileURL(probe).href}?log=${encodeURIComponent(log)}`
    const lines = (): number => { try { return readFileSync(log, 'utf8').split('\n').filter(Boolean).length } catch { return 0 } }
    const pool = new CodecPool({ size: 2 })
    try {
      pool.preload(url)
      expect(pool.stats().workers).toBe(2)
      for (let i = 0; i < 200 && lines() < 2; i++) await new Promise(resolve => setTimeout(resolve, 50))
      expect(lines()).toBe(2)
      // the module's jobs run on the workers that imported it: no further import
      const out = await Promise.all([pool.runJob(url, images[2]), pool.runJob(url, images[3])])
      expect(out.map(b => [...b])).toEqual([[images[2].width % 256], [images[3].width % 256]])
      pool.preload(url) // again: nothing new
      expect(lines()).toBe(2)
      // a worker started later (after a job past its time limit) imports it at its start
      await pool.encode(synth(2048, 2048, 16, true), { timeoutMs: 1 }).catch(() => {})
      pool.preload(url)
      for (let i = 0; i < 200 && lines() < 3; i++) await new Promise(resolve => setTimeout(resolve, 50))
      expect(lines()).toBe(3)
    } finally {
      await pool.close()
    }
  })

  it('close() rejects pending jobs and refuses new ones', async () => {
    const pool = new CodecPool({ size: 1 })
    const running = pool.encode(synth(1024, 1024, 16, true)).catch((e: unknown) => e)
    const waiting = pool.encode(images[2]).catch((e: unknown) => e)
    await pool.close()
    expect(await running).toMatchObject({ name: 'CodecError', message: expect.stringMatching(/closed while the job was running/) })
    expect(await waiting).toMatchObject({ name: 'CodecError', message: expect.stringMatching(/closed before the job ran/) })
    await expect(pool.encode(images[2])).rejects.toThrow(/CodecPool is closed/)
    expect(pool.stats().workers).toBe(0)
  })

  it('getDefaultPool() returns one shared pool', async () => {
    const pool = getDefaultPool()
    expect(getDefaultPool()).toBe(pool)
    expect(Buffer.compare(await pool.encode(images[3]), await encodeHTJ2K(images[3]))).toBe(0)
  })

  it('idle workers do not keep a process alive (compiled dist, as users run it)', async () => {
    const index = pathToFileURL(path.resolve('dist/src/codec/index.js')).href
    const script = `
      const { CodecPool, getDefaultPool } = await import(${JSON.stringify(index)})
      const pool = new CodecPool({ size: 2 })
      const image = { width: 64, height: 64, components: 1, bitsStored: 8, signed: false, data: new Uint8Array(4096).fill(7) }
      const [a, b] = await Promise.all([pool.encode(image), getDefaultPool().encode(image)]) // one job each: one worker each
      // workers started ahead (preload) that never get a job hold nothing either
      const spare = new CodecPool({ size: 2 })
      spare.preload(${JSON.stringify(pathToFileURL(path.resolve('dist/src/formats/png/job.js')).href)})
      console.log('done', a.length === b.length, pool.stats().workers, spare.stats().workers)
    `
    const started = Date.now()
    const { stdout } = await run(process.execPath, ['--input-type=module', '-e', script], { timeout: 20_000 })
    expect(stdout.trim()).toBe('done true 1 2')
    expect(Date.now() - started).toBeLessThan(20_000)
  })
})
