/**
 * `get` of a volume streams: slices are decoded in parallel but handed to the writer in z
 * order through a bounded reorder window, and written as they come, so memory does not grow
 * with the slice count. Instrumented: a wrapping codec pool counts the decodes started, and
 * the temp file shows how many slices are already written; the outputs are the same bytes
 * as the in-memory encoders', and nothing appears under the final name when a get fails.
 */
import { readdirSync, statSync } from 'node:fs'
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { gzipSync } from 'node:zlib'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { getDefaultPool, type CodecPool } from '../../src/codec/index.js'
import { encodeNifti, encodeNpy, mapTo16, outputValues, writeNiftiStream, writeNpyStream } from '../../src/formats/index.js'
import { NIFTI1 } from '../../src/formats/nifti/layout.js'
import { sheppLoganVolume } from '../../src/examples/index.js'
import { publish } from '../../src/publish/index.js'
import { Repo } from '../../src/repo/index.js'
import { openRoot, planEntry, type VolumePlan } from '../../src/level/index.js'
import { getVolume, retrieve, volumeLevelSlices } from '../../src/retrieve/index.js'
import type { RasterImage, VolumeMeta } from '../../src/types.js'
import { tempDir } from '../helpers/tmp.js'

async function * each<T> (items: T[]): AsyncGenerator<T> {
  for (const x of items) yield x
}

const ticks = async (n: number): Promise<void> => { for (let i = 0; i < n; i++) await new Promise(resolve => setImmediate(resolve)) }

let dir: string
let cleanup: () => Promise<void>

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir())
})

afterAll(async () => {
  await cleanup?.()
})

describe('streamed NIfTI and npy writers', () => {
  const phantom = sheppLoganVolume({ size: 24, slices: 5 })
  const u16 = (s: RasterImage): RasterImage => ({ ...s, signed: false, data: Uint16Array.from(s.data, v => v + 1000) })
  const mapped = mapTo16(Float32Array.from({ length: 24 * 24 * 5 }, (_, i) => (i % 97) * 0.25 - 3))
  const quantized = mapTo16(Float32Array.from({ length: 24 * 24 * 5 }, (_, i) => Math.sin(i) * 1000), { quantize: true })
  const mappedSlices = (m: typeof mapped): RasterImage[] => Array.from({ length: 5 }, (_, z) => ({ width: 24, height: 24, components: 1, bitsStored: m.bitsStored, signed: m.signed, data: m.data.slice(z * 576, (z + 1) * 576) }))
  const rgb: RasterImage[] = Array.from({ length: 5 }, (_, z) => ({ width: 24, height: 24, components: 3, bitsStored: 8, signed: false, data: Uint8Array.from({ length: 24 * 24 * 3 }, (_, i) => (i * 7 + z) & 255) }))
  const cases: Array<[string, VolumeMeta, RasterImage[]]> = [
    ['int16', phantom.meta, phantom.slices],
    ['int16 rescale that fits', { ...phantom.meta, rescale: { slope: 2, intercept: -1024 } }, phantom.slices],
    // the first slices fit int16, a later one does not: spooled, then float32
    ['int16 rescale that overflows midway', { ...phantom.meta, rescale: { slope: 1, intercept: 31900 } }, phantom.slices],
    ['uint16 fractional rescale', { ...phantom.meta, dtype: 'uint16', rescale: { slope: 0.5, intercept: 3 } }, phantom.slices.map(u16)],
    ['exact float32 mapping', { ...phantom.meta, dtype: mapped.signed ? 'int16' : 'uint16', valueMapping: mapped.mapping }, mappedSlices(mapped)],
    ['quantized mapping with rescale', { ...phantom.meta, dtype: 'uint16', valueMapping: quantized.mapping, rescale: { slope: 3, intercept: 1 } }, mappedSlices(quantized)],
    ['rgb24', { ...phantom.meta, dtype: 'rgb24' }, rgb]
  ]

  it('writeNiftiStream writes the bytes of encodeNifti (.nii and gzip .nii.gz) for every value path, level and row order', async () => {
    for (const [what, meta, slices] of cases) {
      for (const applyRescale of [false, true]) {
        for (const flipRows of [false, true]) {
          const options = { applyRescale, flipRows }
          const want = encodeNifti(meta, slices, options)
          await writeNiftiStream(join(dir, 'a.nii'), meta, each(slices), options)
          expect(Buffer.compare(await readFile(join(dir, 'a.nii')), want), `${what} ${JSON.stringify(options)}`).toBe(0)
          await writeNiftiStream(join(dir, 'a.nii.gz'), meta, each(slices), options)
          expect(Buffer.compare(await readFile(join(dir, 'a.nii.gz')), gzipSync(want, { level: 6 })), `${what} gz ${JSON.stringify(options)}`).toBe(0)
        }
      }
    }
    // a reduced level: the slices are the level's size
    const half = phantom.slices.map(s => ({ ...s, width: 12, height: 12, data: s.data.slice(0, 144) }))
    await writeNiftiStream(join(dir, 'l1.nii'), phantom.meta, each(half), { level: 1 })
    expect(Buffer.compare(await readFile(join(dir, 'l1.nii')), encodeNifti(phantom.meta, half, { level: 1 }))).toBe(0)
    expect((await readdir(dir)).filter(n => n.includes('.tmp'))).toEqual([])
  })

  it('writeNpyStream writes the bytes of encodeNpy of the output values', async () => {
    for (const [what, meta, slices] of cases) {
      for (const applyRescale of [false, true]) {
        const values = outputValues(meta, slices, applyRescale)
        const want = encodeNpy(slices.map((s, z) => ({ ...s, data: values.slices[z] })))
        await writeNpyStream(join(dir, 'a.npy'), meta, each(slices), slices.length, { applyRescale })
        expect(Buffer.compare(await readFile(join(dir, 'a.npy')), want), `${what} applyRescale=${String(applyRescale)}`).toBe(0)
      }
    }
  })

  it('a stream that fails or has the wrong slice count leaves no file and no temp file', async () => {
    const out = join(dir, 'fail', 'v.nii.gz')
    const failing = async function * (): AsyncGenerator<RasterImage> {
      yield phantom.slices[0]
      throw new Error('decode failed')
    }
    await expect(writeNiftiStream(out, phantom.meta, failing())).rejects.toThrow('decode failed')
    await expect(writeNiftiStream(out, { ...phantom.meta, rescale: { slope: 1, intercept: -1024 } }, failing(), { applyRescale: true })).rejects.toThrow('decode failed')
    await expect(writeNiftiStream(out, phantom.meta, each(phantom.slices.slice(1)))).rejects.toThrow(/5 slices but 4 were given/)
    await expect(writeNpyStream(join(dir, 'fail', 'v.npy'), phantom.meta, each(phantom.slices), 6)).rejects.toThrow(/6 slices expected, 5 were given/)
    expect(await readdir(join(dir, 'fail'))).toEqual([])
  })
})

describe('get of a volume', () => {
  const N = 40
  const K = 4
  const volume = sheppLoganVolume({ size: 128, slices: N }) // 32 KiB slices: each write waits for the file
  let repo: Repo
  let root: Awaited<ReturnType<typeof publish>>['root']

  beforeAll(async () => {
    await writeFile(join(dir, 'ct.nii'), encodeNifti({ ...volume.meta, rescale: { slope: 1, intercept: 32000 } }, volume.slices))
    repo = await Repo.open({ path: join(dir, 'repo'), create: true, command: 'test' })
    root = (await publish([join(dir, 'ct.nii')], { repo })).root
  })

  afterAll(async () => {
    await repo?.close()
  })

  /** A codec pool that counts decodes and calls `onDecode` as each starts. */
  function countingPool (onDecode: (started: number) => void): CodecPool {
    const real = getDefaultPool()
    let started = 0
    return {
      decode: async (codestream: Uint8Array, options?: any) => { onDecode(++started); return real.decode(codestream, options) },
      encode: async (image: RasterImage, options?: any) => real.encode(image, options)
    } as unknown as CodecPool
  }

  it('volumeLevelSlices hands out every slice in z order with at most `concurrency` decoded and not yet released', async () => {
    const top = await openRoot(repo, root!)
    const plan = await planEntry(repo, { name: 'volume', cid: root!, clamp: false, root: top }, { level: 'full' })
    if (plan.kind !== 'volume') throw new Error('not a volume')
    const real = getDefaultPool()
    let started = 0
    let released = 0
    let most = 0
    // later slices finish first: the reorder window must hold them, and only them
    const pool = {
      decode: async (codestream: Uint8Array, options?: any) => {
        const z = started++
        most = Math.max(most, started - released)
        const image = await real.decode(codestream, options)
        await ticks(3 * (K - (z % K)))
        return image
      }
    } as unknown as CodecPool
    const full = await getVolume(repo, root!, { level: 'full' })
    const seen: number[] = []
    for await (const s of volumeLevelSlices(repo, plan as VolumePlan, { pool, concurrency: K })) {
      seen.push(s.z)
      expect(Buffer.compare(Buffer.from(s.image.data.buffer, s.image.data.byteOffset, s.image.data.byteLength), Buffer.from(full.slices[s.z].data.buffer, full.slices[s.z].data.byteOffset, full.slices[s.z].data.byteLength))).toBe(0)
      await ticks(5) // a slow writer
      released++
    }
    expect(seen).toEqual(Array.from({ length: N }, (_, z) => z))
    expect(started).toBe(N)
    expect(most).toBeLessThanOrEqual(K)
  })

  it('writes .nii and .npy as the slices are decoded: never more than the window ahead of the file, and the same bytes as the in-memory encoders', async () => {
    const full = await getVolume(repo, root!, { level: 'full' })
    const sliceBytes = 128 * 128 * 2
    for (const [format, want] of [['nii', encodeNifti(full.meta, full.slices)], ['npy', encodeNpy(full.slices)]] as const) {
      const headerBytes = want.length - N * sliceBytes
      const outDir = join(dir, `out-${format}`)
      let most = 0
      const pool = countingPool(started => {
        // slices already in the temp file when this decode starts
        const tmp = readdirSync(outDir, { withFileTypes: true }).find(e => e.name.endsWith('.tmp'))
        const written = tmp == null ? 0 : Math.max(0, Math.floor((statSync(join(outDir, tmp.name)).size - headerBytes) / sliceBytes))
        most = Math.max(most, started - written)
      })
      await mkdir(outDir, { recursive: true }) // so that the pool can look into it before the writer starts
      const out = join(outDir, `ct.${format}`)
      await retrieve(repo, root!, { out, format, level: 'full', pool, concurrency: K })
      expect(Buffer.compare(await readFile(out), want), format).toBe(0)
      // held before the change: all N decoded slices before the first byte was written
      expect(most, format).toBeLessThanOrEqual(K + 1)
      expect(readdirSync(outDir)).toEqual([`ct.${format}`])
    }
  })

  it('.nii.gz streams through gzip; --apply-rescale (values spooled until their type is known) gives the same bytes', async () => {
    const full = await getVolume(repo, root!, { level: 'full' })
    const out = join(dir, 'out-gz', 'ct.nii.gz')
    await retrieve(repo, root!, { out, level: 'full', concurrency: K })
    expect(Buffer.compare(await readFile(out), gzipSync(encodeNifti(full.meta, full.slices), { level: 6 }))).toBe(0)
    const rescaled = join(dir, 'out-gz', 'hu.nii')
    await retrieve(repo, root!, { out: rescaled, level: 'full', applyRescale: true, concurrency: K })
    const want = encodeNifti(full.meta, full.slices, { applyRescale: true })
    expect(new DataView(want.buffer).getInt16(NIFTI1.datatype, true)).toBe(16) // float32: some values overflow int16
    expect(Buffer.compare(await readFile(rescaled), want)).toBe(0)
    expect(readdirSync(join(dir, 'out-gz')).sort()).toEqual(['ct.nii.gz', 'hu.nii'])
  })

  it('a get that fails midway leaves nothing under the output name', async () => {
    for (const name of ['ct.nii', 'ct.nii.gz', 'ct.npy']) {
      const outDir = join(dir, 'out-fail')
      const failing = countingPool(started => { if (started === 20) throw new Error('decoder crashed') })
      await expect(retrieve(repo, root!, { out: join(outDir, name), format: name.endsWith('npy') ? 'npy' : 'nii', level: 'full', pool: failing, concurrency: K })).rejects.toThrow('decoder crashed')
      expect(readdirSync(outDir)).toEqual([])
    }
  })
})
