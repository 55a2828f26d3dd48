/**
 * Cases the long fuzzing campaigns found outside the codec (the codec's own are in
 * codec-hostile.test.ts), rebuilt from the harness's small base DAG.
 */
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CodecPool } from '../src/codec/index.js'
import { FormatError, MissingBlockError } from '../src/errors.js'
import { getVolume, retrieve } from '../src/retrieve/index.js'
import type { Block } from '../src/types.js'
import { makeBaseDag, type BaseDag } from './helpers/fuzz-harness.js'
import { tempDir } from './helpers/tmp.js'

let base: BaseDag
const pool = new CodecPool({ size: 1 })
beforeAll(async () => { base = await makeBaseDag() })
afterAll(async () => { await pool.close() })

async function cbor (value: unknown): Promise<Block> {
  const bytes = dagCbor.encode(value)
  return { cid: CID.createV1(dagCbor.code, await sha256.digest(bytes)), bytes }
}

function sourceOf (blocks: Block[]): { get: (cid: CID) => Promise<Uint8Array>, has: (cid: CID) => Promise<boolean> } {
  const map = new Map([...base.blocks, ...blocks].map((b) => [b.cid.toString(), b.bytes]))
  return {
    get: async (cid) => { const b = map.get(cid.toString()); if (b == null) throw new MissingBlockError(`no block ${cid}`); return b },
    has: async (cid) => map.has(cid.toString())
  }
}

describe('fuzz campaign regressions', () => {
  // seed 20251202, dag kind: a volume root listing 33 levels over slices that have 2 ended in a
  // RangeError from levelPlan (23 of 13,000 cases)
  it('a volume root that lists levels its slices lack ends in a FormatError', async () => {
    const levels = base.volume.node.levels as Array<{ level: number }>
    const vol = await cbor({ ...base.volume.node, levels: Array.from({ length: 33 }, (_, k) => ({ ...levels[Math.min(k, levels.length - 1)], level: k })) })
    const source = sourceOf([vol])
    for (const level of [undefined, 2, 32]) {
      const err = await getVolume(source, vol.cid, { pool, level }).then(() => undefined, (e: unknown) => e)
      expect(err).toBeInstanceOf(FormatError)
      expect((err as Error).message).toMatch(new RegExp(`level ${level ?? 32} does not exist: the image has levels 0\\.\\.1`))
    }
    // inside a dataset: the volume's entry fails with the same FormatError, the image entry is written
    const ds = structuredClone(dagCbor.decode(dagCbor.encode(base.dataset.node))) as any
    ds.entries.find((e: any) => e.name === 'vol.nii').root = vol.cid
    const dsBlock = await cbor(ds)
    const { dir, cleanup } = await tempDir()
    try {
      const r = await retrieve(sourceOf([vol, dsBlock]), dsBlock.cid, { out: dir, pool, concurrency: 2 })
      expect(r.failures.map((f) => [f.name, f.error.name])).toEqual([['vol.nii', 'FormatError']])
      expect(r.outputs.length).toBeGreaterThan(0)
    } finally {
      await cleanup()
    }
  })
})
