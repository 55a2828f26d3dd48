/**
 * A PNG is published on a codec worker (src/publish/image-task.ts): read, decoded, encoded and
 * chunked there. It must give exactly the root and blocks the main-thread path gives, keep the
 * error classes of that path, and hand a file named .png that is something else back to it.
 */
import { readFile, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildImageDag } from '../../src/chunker/index.js'
import { CodecPool, encodeHTJ2K, synthesizeImage } from '../../src/codec/index.js'
import { encodePng, readInputs } from '../../src/formats/index.js'
import { publish } from '../../src/publish/index.js'
import { publishPngOnPool } from '../../src/publish/image-task.js'
import { Repo } from '../../src/repo/index.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>
const pool = new CodecPool({ size: 2 })

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-png-worker-'))
  await mkdir(join(dir, 'in'))
  // 16-bit gray, 8-bit gray, 8-bit RGB: the row decoder's three copy paths, every filter type on real rows
  await writeFile(join(dir, 'in', 'a16.png'), encodePng(synthesizeImage(300, 200, 12, false, 1, 3)))
  await writeFile(join(dir, 'in', 'b8.png'), encodePng(synthesizeImage(129, 77, 8, false, 1, 4)))
  await writeFile(join(dir, 'in', 'c-rgb.png'), encodePng(synthesizeImage(64, 48, 8, false, 3, 5)))
  await writeFile(join(dir, 'in', 'd-broken.png'), (await readFile(join(dir, 'in', 'b8.png'))).subarray(0, 300))
})

afterAll(async () => {
  await pool.close()
  await cleanup?.()
})

/** The main-thread path: readInputs, encode, buildImageDag. */
async function onMainThread (path: string): Promise<{ root: string, blocks: string[] }> {
  const [item] = await readInputs(path)
  if (item.kind !== 'image') throw new Error('expected an image')
  const cs = await encodeHTJ2K(item.image)
  const dag = await buildImageDag(cs, item.image, item.meta, { name: path })
  return { root: dag.root.toString(), blocks: dag.blocks.map(b => `${b.cid}:${Buffer.from(b.bytes).toString('base64')}`).sort() }
}

describe('publishing a PNG on a codec worker', () => {
  it('gives the same root and block bytes as the main-thread path', async () => {
    for (const name of ['a16.png', 'b8.png', 'c-rgb.png']) {
      const path = join(dir, 'in', name)
      const got = await publishPngOnPool(pool, { path })
      expect(got).toBeDefined()
      const blocks = got!.blocks.map(b => `${b.cid}:${Buffer.from(b.bytes).toString('base64')}`).sort()
      expect({ root: got!.root.toString(), blocks }).toEqual(await onMainThread(path))
    }
  })

  it('keeps the error class of a broken PNG, and hands back a file that is not a PNG', async () => {
    await expect(publishPngOnPool(pool, { path: join(dir, 'in', 'd-broken.png') })).rejects.toMatchObject({ name: 'InvalidInputError' })
    await writeFile(join(dir, 'not-a.png'), Buffer.from('P2\n1 1\n255\n0\n'))
    expect(await publishPngOnPool(pool, { path: join(dir, 'not-a.png') })).toBeUndefined()
  })

  it('publish() of a directory: every good PNG published as on the main thread, the broken one reported by name', async () => {
    const repo = await Repo.open({ path: join(dir, 'repo'), create: true })
    try {
      const result = await publish([join(dir, 'in')], { repo, pool })
      expect(result.items.map(i => i.name)).toEqual(['a16.png', 'b8.png', 'c-rgb.png'])
      for (const item of result.items) expect(item.root.toString()).toBe((await onMainThread(item.path)).root)
      expect(result.failures).toEqual([{ path: join(dir, 'in', 'd-broken.png'), error: { name: 'InvalidInputError', message: expect.stringContaining('d-broken.png') } }])
      for (const item of result.items) for (const b of (await onMainThread(item.path)).blocks) expect(await repo.has(CID.parse(b.split(':')[0]))).toBe(true)
    } finally {
      await repo.close()
    }
  })
})
