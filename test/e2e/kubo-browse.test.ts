/**
 * A dataset browsable by path in Kubo (MIST_KUBO), on 127.0.0.1 only: a level-1 CAR of a
 * version-2 dataset imports with Kubo's defaults; `ipfs ls` walks its level directories;
 * `ipfs get` of a level's directory is the tree `mist-p2p get --level K --format j2c` writes
 * (levels 0 and 1), and Kubo's gateway serves `/ipfs/<dir>/<path>` with the same bytes. A
 * 3,000-entry folder is HAMT-sharded, and Kubo lists and resolves it; our directory encoder gives
 * the CIDs `ipfs add -r --cid-version=1 --raw-leaves` gives for the same names and blocks.
 */
import { mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildDatasetDag, buildImageDag, buildUnixfsDirectory } from '../../src/chunker/index.js'
import { encodeHTJ2K } from '../../src/codec/index.js'
import { gradientImage, patternImage, writeExamples } from '../../src/examples/index.js'
import { encodePng } from '../../src/formats/index.js'
import { buildDatasetDirectories } from '../../src/publish/dataset-dirs.js'
import { Repo } from '../../src/repo/index.js'
import { cli } from '../helpers/cli.js'
import { KuboNode, kuboBin } from '../helpers/kubo.js'
import { initRepo } from '../helpers/repos.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: (() => Promise<void>) | undefined
let kubo: KuboNode | undefined
let seeder: { repo: string, peerId: string }
let root: string
let dirs: string[]
let skip = false

/** Every file under a directory, relative path -> bytes (manifest.jsonl left out: get writes it beside the outputs). */
async function tree (top: string): Promise<Map<string, Buffer>> {
  const out = new Map<string, Buffer>()
  for (const e of await readdir(top, { recursive: true, withFileTypes: true })) {
    if (!e.isFile()) continue
    const rel = relative(top, join(e.parentPath, e.name))
    if (rel !== 'manifest.jsonl') out.set(rel, await readFile(join(e.parentPath, e.name)))
  }
  return out
}

/**
 * Whether `file` (a level file) is `cut` (get's codestream of that level) or the same codestream
 * carrying more of the next tile-parts: cut without its EOC is a prefix of file, both end in EOC.
 */
function sameLevel (cut: Buffer, file: Buffer): boolean {
  const eoc = Buffer.from([0xff, 0xd9])
  return file.length >= cut.length && cut.subarray(-2).equals(eoc) && file.subarray(-2).equals(eoc) && file.subarray(0, cut.length - 2).equals(cut.subarray(0, -2))
}

beforeAll(async () => {
  const bin = kuboBin()
  if (bin == null) { skip = true; return }
  ({ dir, cleanup } = await tempDir('mist-kubo-browse-'))
  seeder = await initRepo(dir, 'seeder')
  // the examples (a 48-slice volume, a radiograph) and a nested folder
  const input = join(dir, 'in')
  await writeExamples(input)
  await mkdir(join(input, 'ct', 'series-2'), { recursive: true })
  await writeFile(join(input, 'ct', 'pattern.png'), encodePng(patternImage()))
  await writeFile(join(input, 'ct', 'series-2', 'gradient.png'), encodePng(gradientImage()))
  const pub = await cli(['publish', input, '--repo', seeder.repo, '--json'], { timeoutMs: 300_000 })
  expect(pub.code, pub.stderr).toBe(0)
  root = JSON.parse(pub.stdout).root
  const info = await cli(['info', root, '--repo', seeder.repo, '--json'])
  expect(info.code, info.stderr).toBe(0)
  const doc = JSON.parse(info.stdout)
  expect(doc.version).toBe(2)
  dirs = doc.levels.map((l: { dir: string }) => l.dir)
  kubo = await KuboNode.init(bin, join(dir, 'kubo'), join(seeder.repo, 'swarm.key'))
  await kubo.start()
}, 300_000)

afterAll(async () => {
  await kubo?.kill().catch(() => {})
  await cleanup?.()
})

describe('a dataset browsable by path in Kubo', () => {
  it('a level-1 CAR imports with default options; ipfs ls walks the level directories; ipfs get of levels 0 and 1 is the tree get --format j2c writes; the gateway serves the same bytes by path', async (ctx) => {
    if (skip) ctx.skip()
    const k = kubo!
    const car = join(dir, 'level1.car')
    const exp = await cli(['export', root, '--level', '1', '-o', car, '--repo', seeder.repo, '--json'])
    expect(exp.code, exp.stderr).toBe(0)
    expect(JSON.parse(exp.stdout)).toMatchObject({ layout: 'level-dirs', roots: dirs.slice(0, 2) })
    const imp = await k.ipfs(['dag', 'import', car], { timeoutMs: 60_000 })
    expect(imp.code, imp.stderr).toBe(0)
    expect(imp.stdout.toString().split('\n').filter(l => /^Pinned root\t.*\tsuccess$/.test(l))).toHaveLength(2)

    const ls = async (path: string): Promise<string[]> => (await k.ok(['ls', '--offline', `/ipfs/${path}`])).trim().split('\n').map(l => l.split(/\s+/).slice(2).join(' '))
    expect((await ls(dirs[1])).sort()).toEqual(['ct/', 'phantom/', 'radiograph.j2c'])
    expect((await ls(`${dirs[1]}/ct`)).sort()).toEqual(['pattern.j2c', 'series-2/'])
    const slices = await ls(`${dirs[1]}/phantom`)
    expect(slices).toHaveLength(48)
    expect(slices[42]).toBe('slice-0042.j2c')

    for (const level of [0, 1]) {
      const ours = join(dir, `get-${level}`)
      const got = await cli(['get', root, '--level', String(level), '--format', 'j2c', '-o', ours, '--repo', seeder.repo])
      expect(got.code, got.stderr).toBe(0)
      const theirs = join(dir, `ipfs-get-${level}`)
      await k.ok(['get', '--offline', '-o', theirs, `/ipfs/${dirs[level]}`], { timeoutMs: 60_000 })
      const a = await tree(ours)
      const b = await tree(theirs)
      expect([...b.keys()].sort()).toEqual([...a.keys()].sort())
      expect(a.size).toBe(48 + 3)
      let exact = 0
      for (const [name, bytes] of a) {
        const file = b.get(name)!
        if (Buffer.compare(bytes, file) === 0) { exact++; continue }
        // a level grouped with finer ones in the image's first leaf (docs/FORMAT.md section 2): its
        // level file carries those few extra tile-parts; get writes the codestream cut at the level
        expect(sameLevel(bytes, file), name).toBe(true)
      }
      console.log(`[kubo-browse] level ${level}: ${exact} of ${a.size} files byte-identical to get --format j2c, the others are its grouped-leaf form`)
      // one file by path, as in the README
      const cat = await k.ipfs(['cat', '--offline', `/ipfs/${dirs[level]}/phantom/slice-0042.j2c`])
      expect(cat.code, cat.stderr).toBe(0)
      expect(Buffer.compare(cat.stdout, b.get('phantom/slice-0042.j2c')!)).toBe(0)
      expect(sameLevel(a.get('phantom/slice-0042.j2c')!, cat.stdout)).toBe(true)
      // the gateway on 127.0.0.1, by path
      expect(k.gateway).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      for (const path of ['phantom/slice-0042.j2c', 'ct/series-2/gradient.j2c', 'radiograph.j2c']) {
        const res = await fetch(`${k.gateway}/ipfs/${dirs[level]}/${path}`)
        expect(res.status, path).toBe(200)
        expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), b.get(path)!), path).toBe(0)
      }
    }
    // level 2 is not in this Kubo: its directory is not either
    const missing = await k.ipfs(['ls', '--offline', `/ipfs/${dirs[2]}`], { timeoutMs: 20_000 })
    expect(missing.code).not.toBe(0)
  }, 180_000)

  it('a 3,000-entry folder is HAMT-sharded like Kubo shards: Kubo lists it and resolves paths in it, by ipfs and by the gateway', async (ctx) => {
    if (skip) ctx.skip()
    const k = kubo!
    const repoPath = join(dir, 'many')
    const image = patternImage()
    const dag = await buildImageDag(await encodeHTJ2K(image, { decompositions: 3 }), image, { sourceFormat: 'synthetic' }, { groupBytes: 0 })
    const n = 3000
    const name = (i: number): string => `many/patient-${String(i).padStart(5, '0')}-study-with-a-rather-long-descriptive-name.png`
    const entries = Array.from({ length: n }, (_, i) => ({ name: name(i), root: dag.root, kind: 'image' as const, levels: dag.levels }))
    const repo = await Repo.open({ path: repoPath, create: true })
    let manyRoot: CID
    let sharded: number
    try {
      await repo.putBlocks(dag.blocks)
      const made = await buildDatasetDirectories(repo, entries, dag.levels.length, { put: async b => { await repo.putBlocks([b]) } })
      sharded = made.stats.sharded
      const ds = await buildDatasetDag(entries, { dirs: made.dirs })
      await repo.putBlocks(ds.blocks)
      await repo.pin(ds.root)
      manyRoot = ds.root
    } finally { await repo.close() }
    expect(sharded).toBe(dag.levels.length)
    const car = join(dir, 'many.car')
    const exp = await cli(['export', manyRoot.toString(), '--level', '0', '-o', car, '--repo', repoPath, '--json'])
    expect(exp.code, exp.stderr).toBe(0)
    const dir0 = JSON.parse(exp.stdout).roots[0]
    const imp = await k.ipfs(['dag', 'import', car], { timeoutMs: 60_000 })
    expect(imp.code, imp.stderr).toBe(0)
    const listed = (await k.ok(['ls', '--offline', '--size=false', '--resolve-type=false', `/ipfs/${dir0}/many`], { timeoutMs: 60_000 })).trim().split('\n')
    expect(listed).toHaveLength(n)
    const entry = name(1234)
    const got = await cli(['get', `${manyRoot}/${entry}`, '--level', '0', '--format', 'j2c', '-o', join(dir, 'one.j2c'), '--repo', repoPath])
    expect(got.code, got.stderr).toBe(0)
    const want = await readFile(join(dir, 'one.j2c'))
    const path = entry.replace(/\.png$/, '.j2c')
    const cat = await k.ipfs(['cat', '--offline', `/ipfs/${dir0}/${path}`])
    expect(cat.code, cat.stderr).toBe(0)
    expect(Buffer.compare(cat.stdout, want)).toBe(0)
    const res = await fetch(`${k.gateway}/ipfs/${dir0}/${path}`)
    expect(res.status).toBe(200)
    expect(Buffer.compare(Buffer.from(await res.arrayBuffer()), want)).toBe(0)
  }, 180_000)

  it('the directory encoder gives the CIDs Kubo\'s `ipfs add -r --cid-version=1 --raw-leaves` gives, plain and sharded', async (ctx) => {
    if (skip) ctx.skip()
    const k = kubo!
    for (const [label, count, pad] of [['plain', 20, 10], ['sharded', 3000, 80]] as const) {
      const folder = join(dir, `add-${label}`)
      await mkdir(folder, { recursive: true })
      const links = []
      for (let i = 0; i < count; i++) {
        const fileName = `${String(i).padStart(5, '0')}-`.padEnd(pad, 'n') + '.j2c'
        const bytes = Buffer.from(`content of ${i}\n`)
        await writeFile(join(folder, fileName), bytes)
        links.push({ name: fileName, cid: CID.createV1(raw.code, await sha256.digest(bytes)), tsize: bytes.byteLength })
      }
      const ours = await buildUnixfsDirectory(links)
      expect(ours.sharded).toBe(label === 'sharded')
      const theirs = (await k.ok(['add', '-r', '-Q', '--only-hash', '--cid-version=1', '--raw-leaves', folder], { timeoutMs: 120_000 })).trim()
      expect(ours.cid.toString(), label).toBe(theirs)
    }
  }, 180_000)
})
