/**
 * DICOM series grouping when a directory is published: a series becomes one
 * volume next to single radiographs that stay images; a series with a broken
 * slice is published file by file, the broken one reported, the batch going on.
 */
import { copyFile, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publish } from '../../src/publish/index.js'
import { Repo } from '../../src/repo/index.js'
import { REAL_FIXTURES } from '../helpers/env.js'
import { tempDir } from '../helpers/tmp.js'

describe.skipIf(REAL_FIXTURES == null)('publishing DICOM directories', () => {
  const F = REAL_FIXTURES ?? '' // a skipped describe's body still runs
  const series = join(F, 'github-TotalSegmentator/example_ct_dicom')
  let dir: string
  let cleanup: () => Promise<void>
  let repo: Repo

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('mist-series-'))
    repo = await Repo.open({ path: join(dir, 'repo'), create: true })
  })
  afterAll(async () => {
    await repo?.close()
    await cleanup?.()
  })

  it('a series is one volume named after its directory; a radiograph next to it stays an image', async () => {
    const data = join(dir, 'study')
    await mkdir(join(data, 'ct'), { recursive: true })
    for (const f of await readdir(series)) await copyFile(join(series, f), join(data, 'ct', f))
    await copyFile(join(F, 'github-DICOMHTJ2K/uncompressed/XA1_UNC.dcm'), join(data, 'ct', 'xa.dcm'))
    const res = await publish([data], { repo })
    expect(res.failures).toEqual([])
    expect(res.items.map(i => [i.name, i.kind, i.images])).toEqual([['ct', 'volume', 20], ['ct/xa.dcm', 'image', 1]])
    expect(res.items[0].path).toBe(join(data, 'ct'))
  }, 120_000)

  it('a series with a truncated slice is published file by file and the broken file is reported', async () => {
    const data = join(dir, 'broken')
    await mkdir(data)
    const files = (await readdir(series)).sort()
    for (const f of files) await copyFile(join(series, f), join(data, f))
    const victim = join(data, files[7])
    const bytes = await readFile(victim)
    await writeFile(victim, bytes.subarray(0, bytes.length - 5000))
    const res = await publish([data], { repo })
    expect(res.failures.map(f => f.path)).toEqual([victim])
    expect(res.failures[0].error.name).toBe('InvalidInputError')
    expect(res.items).toHaveLength(19)
    expect(res.items.every(i => i.kind === 'image')).toBe(true)
    expect(res.root).toBeDefined()
  }, 120_000)
})
