import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { describe, expect, it } from 'vitest'
import { MAX_BLOCK_BYTES, SLICES_INLINE, buildVolumeDag, decodeVolumeRoot, rootKind, volumeSlices, type LevelSummary } from '../../src/chunker/index.js'
import type { Block, VolumeMeta } from '../../src/types.js'

const meta: VolumeMeta = {
  sourceFormat: 'nifti', modality: 'CT', dims: [512, 512, 10000], spacing: [0.8, 0.8, 1.25],
  affine: [-0.8, 0, 0, 100, 0, -0.8, 0, 120, 0, 0, 1.25, -300, 0, 0, 0, 1], dtype: 'int16',
  rescale: { slope: 1, intercept: -0 }, nifti: { qformCode: 1, sformCode: 1, xyztUnits: 10, quatern: [0, 0, 1], qoffset: [100, 120, -300], qfac: -1 }
}

function sliceCid (z: number): CID {
  return CID.createV1(dagCbor.code, sha256.digest(dagCbor.encode({ z })) as any)
}

function levels (z: number): LevelSummary[] {
  return [0, 1, 2].map(k => ({ level: k, width: 128 << k, height: 128 << k, bytes: 1000 * (k + 1) + (z % 7) }))
}

async function build (n: number): Promise<{ root: CID, blocks: Block[], levels: LevelSummary[] }> {
  return await buildVolumeDag({ ...meta, dims: [512, 512, n] }, Array.from({ length: n }, (_, z) => ({ root: sliceCid(z), levels: levels(z) })))
}

describe('volume root', () => {
  it('small volume: slices inline, metadata normalised, levels summed', async () => {
    const dag = await build(30)
    expect(dag.blocks).toHaveLength(1)
    const rootBytes = dag.blocks[0].bytes
    expect(rootKind(rootBytes)).toBe('volume')
    const root = decodeVolumeRoot(rootBytes, dag.root)
    expect(root.meta.rescale).toEqual({ slope: 1, intercept: 0 })
    expect(Object.is(root.meta.rescale!.intercept, 0)).toBe(true)
    expect(root.meta.nifti).toEqual(meta.nifti)
    expect(root.sliceCount).toBe(30)
    expect(root.shards).toBeUndefined()
    let sum2 = 0
    for (let z = 0; z < 30; z++) sum2 += levels(z)[2].bytes
    expect(root.levels[2]).toEqual({ level: 2, width: 512, height: 512, bytes: sum2 })
    expect(dag.levels).toEqual(root.levels)
    const got: string[] = []
    for await (const c of volumeSlices(root, async () => { throw new Error('no fetch expected') })) got.push(c.toString())
    expect(got).toEqual(Array.from({ length: 30 }, (_, z) => sliceCid(z).toString()))
  })

  it('10,000 slices: sharded, every block <= 1 MiB, slices come back in z order', async () => {
    const n = 10000
    const dag = await build(n)
    expect(dag.blocks.length).toBe(1 + Math.ceil(n / SLICES_INLINE))
    for (const b of dag.blocks) expect(b.bytes.byteLength).toBeLessThanOrEqual(MAX_BLOCK_BYTES)
    const store = new Map(dag.blocks.map(b => [b.cid.toString(), b.bytes]))
    const root = decodeVolumeRoot(store.get(dag.root.toString())!, dag.root)
    expect(root.slices).toBeUndefined()
    expect(root.shards!.map(s => s.count)).toEqual([4096, 4096, 1808])
    let z = 0
    for await (const c of volumeSlices(root, async cid => store.get(cid.toString())!)) {
      expect(c.equals(sliceCid(z))).toBe(true)
      z++
    }
    expect(z).toBe(n)
    const sizes = dag.blocks.map(b => b.bytes.byteLength)
    console.log(`10,000-slice volume: ${dag.blocks.length} blocks, largest ${Math.max(...sizes)} B, root ${store.get(dag.root.toString())!.byteLength} B`)
  })

  it('refuses inconsistent slices and bad roots', async () => {
    await expect(buildVolumeDag(meta, [{ root: sliceCid(0), levels: levels(0) }, { root: sliceCid(1), levels: levels(1).slice(0, 2) }])).rejects.toThrow(/slice 1 has levels that differ/)
    await expect(buildVolumeDag({ ...meta, dims: [1, 2] as any }, [{ root: sliceCid(0), levels: levels(0) }])).rejects.toMatchObject({ name: 'FormatError' })
    const good = dagCbor.decode((await build(3)).blocks[0].bytes) as any
    const bad = (f: (n: any) => void): Error => {
      const n = { ...good, meta: { ...good.meta }, levels: good.levels.map((l: any) => ({ ...l })), slices: [...good.slices] }
      f(n)
      const bytes = dagCbor.encode(n)
      try { decodeVolumeRoot(bytes, CID.createV1(dagCbor.code, sha256.digest(bytes) as any)) } catch (err) { return err as Error }
      throw new Error('accepted')
    }
    for (const [f, re] of [
      [(n: any) => { n.sliceCount = 4 }, /lists 3 slices, sliceCount is 4/],
      [(n: any) => { delete n.meta.affine }, /meta lacks/],
      [(n: any) => { n.levels[1].bytes = 1 }, /smaller than/],
      [(n: any) => { n.slices[0] = 'x' }, /CID link/],
      [(n: any) => { n.mist = 'image' }, /mist must be "volume"/],
      [(n: any) => { n.shards = [] }, /both slices and shards/]
    ] as const) {
      const err = bad(f)
      expect(err.name).toBe('FormatError')
      expect(err.message).toMatch(re)
    }
  })
})
