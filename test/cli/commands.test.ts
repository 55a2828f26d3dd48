import { readFileSync } from 'node:fs'
/**
 * The real binary, as a user runs it: publish, info and get on the built-in examples,
 * with a fixed dataset CID (same pixels and options give the same CIDs everywhere).
 */
import { readdir, writeFile, mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeExamples } from '../../src/examples/index.js'
import { readInput } from '../../src/formats/index.js'
import { cli } from '../helpers/cli.js'
import { storedBlocks } from '../helpers/stored-blocks.js'
import { tempDir } from '../helpers/tmp.js'

// Changes only with docs/FORMAT.md's version (or the encoder's output): fixtures/golden.json.
const EXAMPLES_DATASET_CID: string = JSON.parse(readFileSync(join(import.meta.dirname, '..', '..', 'fixtures', 'golden.json'), 'utf8')).examplesDataset

let dir: string
let cleanup: () => Promise<void>
let repo: string
let examples: string

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-cli-'))
  repo = join(dir, 'repo')
  examples = join(dir, 'examples')
  await mkdir(examples)
  await writeExamples(examples)
})
afterAll(async () => cleanup?.())

describe('mist-p2p CLI', () => {
  it('prints help for the program and each command', async () => {
    const top = await cli(['--help'])
    expect(top.code).toBe(0)
    for (const c of ['publish', 'get', 'info', 'demo']) expect(top.stdout).toContain(c)
    const get = await cli(['get', '--help'])
    expect(get.code).toBe(0)
    expect(get.stdout).toContain('--size <px>')
    expect(get.stdout).toContain('--level <k>')
  })

  it('publish --json gives the dataset root, each image with its levels, and a fixed CID', async () => {
    const res = await cli(['publish', examples, '--repo', repo, '--json'])
    expect(res.stderr).toBe('')
    expect(res.code).toBe(0)
    const doc = JSON.parse(res.stdout)
    expect(doc.root).toBe(EXAMPLES_DATASET_CID)
    expect(doc.failures).toEqual([])
    expect(doc.images.map((i: any) => i.name)).toEqual(['phantom.nii.gz', 'radiograph.png'])
    for (const image of doc.images) {
      expect(image.path).toContain(examples)
      expect(image.root).toMatch(/^bafyrei/)
      for (const l of image.levels) expect(Object.keys(l).sort()).toEqual(['bytes', 'height', 'level', 'width'])
      const bytes = image.levels.map((l: any) => l.bytes)
      expect([...bytes].sort((a: number, b: number) => a - b)).toEqual(bytes)
    }
    // bytesWritten counts every stored block once, although slices are stored concurrently
    // (they share the EOC leaf; a `+= await` lost concurrent counts before)
    let stored = 0
    for (const size of (await storedBlocks(repo)).values()) stored += size
    expect(doc.bytesWritten).toBe(stored)
  })

  it('publishing the same files again writes nothing new and gives the same root', async () => {
    const res = await cli(['publish', examples, '--repo', repo, '--json'])
    const doc = JSON.parse(res.stdout)
    expect(doc.root).toBe(EXAMPLES_DATASET_CID)
    expect(doc.bytesWritten).toBe(0)
  })

  it('info shows the per-level costs of the dataset from its root', async () => {
    const res = await cli(['info', EXAMPLES_DATASET_CID, '--repo', repo, '--json'])
    expect(res.code).toBe(0)
    const doc = JSON.parse(res.stdout)
    expect(doc.kind).toBe('dataset')
    expect(doc.levels.length).toBeGreaterThan(1)
    const human = await cli(['info', EXAMPLES_DATASET_CID, '--repo', repo])
    expect(human.stdout).toContain('dataset')
    expect(human.stdout).toMatch(/100\.00 %/)
  })

  it('get --size 64 writes every entry of the dataset at its 64 px level', async () => {
    const out = join(dir, 'out64')
    const res = await cli(['get', EXAMPLES_DATASET_CID, '--size', '64', '-o', out, '--repo', repo, '--json'])
    expect(res.code).toBe(0)
    const doc = JSON.parse(res.stdout)
    expect(doc.outputs.map((o: any) => [o.name, o.width, o.height])).toEqual([['phantom.nii.gz', 64, 64], ['radiograph.png', 64, 64]])
    expect((await readdir(out)).sort()).toEqual(['manifest.jsonl', 'phantom.nii', 'radiograph.png'])
    const png = await readInput(join(out, 'radiograph.png'))
    expect(png.kind === 'image' && png.image.width).toBe(64)
  })

  it('get of one image at the full level equals the source file', async () => {
    const doc = JSON.parse((await cli(['publish', join(examples, 'radiograph.png'), '--repo', repo, '--json'])).stdout)
    const out = join(dir, 'full.png')
    const res = await cli(['get', doc.root, '--level', 'full', '-o', out, '--repo', repo])
    expect(res.code).toBe(0)
    expect(res.stdout).toContain(out)
    const a = await readInput(join(examples, 'radiograph.png'))
    const b = await readInput(out)
    if (a.kind !== 'image' || b.kind !== 'image') throw new Error('expected images')
    expect(Buffer.compare(Buffer.from(a.image.data.buffer, a.image.data.byteOffset, a.image.data.byteLength), Buffer.from(b.image.data.buffer, b.image.data.byteOffset, b.image.data.byteLength))).toBe(0)
  })

  it('gives clear errors and exit codes for bad requests', async () => {
    const badCid = await cli(['get', 'not-a-cid', '--repo', repo])
    expect(badCid.code).toBe(2)
    expect(badCid.stderr).toContain('"not-a-cid" is not a CID')
    const doc = JSON.parse((await cli(['publish', join(examples, 'radiograph.png'), '--repo', repo, '--json'])).stdout)
    const badLevel = await cli(['get', doc.root, '--level', '9', '--repo', repo])
    expect(badLevel.code).toBe(2)
    expect(badLevel.stderr).toMatch(/has levels 0\.\.4 .*level 9 does not exist/)
    const both = await cli(['get', doc.root, '--level', '1', '--size', '3', '--repo', repo])
    expect(both.code).toBe(2)
    const absent = await cli(['get', 'bafyreigdmqpykrgxyaxtlafqpqhzrb7qy2rh75nldvfd4tucqmlmwbt6ty', '--repo', repo])
    expect(absent.code).toBe(1)
    expect(absent.stderr).toContain('MissingBlockError')
    const noRepo = await cli(['info', doc.root, '--repo', join(dir, 'nowhere')])
    expect(noRepo.code).toBe(1)
    expect(noRepo.stderr).toContain('is not a mist-p2p repo')
  })

  it('publish exits 1 and names each bad file, while publishing the good ones', async () => {
    const mixed = join(dir, 'mixed')
    await mkdir(mixed)
    await writeFile(join(mixed, 'broken.png'), new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0]))
    await writeFile(join(mixed, 'readme.txt'), 'hello')
    const { readFile } = await import('node:fs/promises')
    await writeFile(join(mixed, 'ok.png'), await readFile(join(examples, 'radiograph.png')))
    const res = await cli(['publish', mixed, '--repo', repo])
    expect(res.code).toBe(1)
    expect(res.stderr).toContain(join(mixed, 'broken.png'))
    expect(res.stderr).toContain(join(mixed, 'readme.txt'))
    expect(res.stdout).toContain('published 1 file(s) (1 images), 2 failed')
  })
})
