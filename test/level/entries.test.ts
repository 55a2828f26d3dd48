/**
 * Using part of an archive: one entry or one sub-directory of a dataset by path, reading only the
 * index nodes on the way; --include/--exclude globs; the manifest.jsonl written beside the outputs.
 */
import { readdir, readFile, writeFile, mkdir } from 'node:fs/promises'
import { join, relative } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildDatasetDag, FANOUT } from '../../src/chunker/index.js'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng, readInput } from '../../src/formats/index.js'
import { rootEntries, openRoot } from '../../src/level/index.js'
import { publish } from '../../src/publish/index.js'
import { Repo } from '../../src/repo/index.js'
import { retrieve } from '../../src/retrieve/index.js'
import { cli } from '../helpers/cli.js'
import { CountingSource } from '../helpers/counting-source.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>

beforeAll(async () => { ({ dir, cleanup } = await tempDir('mist-paths-')) })
afterAll(async () => { await cleanup?.() })

async function files (root: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) if (e.isFile()) out.push(relative(root, join(e.parentPath, e.name)))
  return out.sort()
}

describe('a 20,000-entry dataset', () => {
  const N = 20_000
  let repo: Repo
  let root: Awaited<ReturnType<typeof buildDatasetDag>>['root']
  let depth1Nodes: number

  beforeAll(async () => {
    repo = await Repo.open({ path: join(dir, 'big-repo'), create: true })
    // four real tiny images, published; 20,000 entries in 40 folders point at them
    await mkdir(join(dir, 'tiny'))
    for (let i = 0; i < 4; i++) await writeFile(join(dir, 'tiny', `t${i}.png`), encodePng(synthesizeImage(16, 16, 8, false, 1, i + 1)))
    const published = await publish([join(dir, 'tiny')], { repo })
    const items = published.items
    const entries = Array.from({ length: N }, (_, i) => {
      const item = items[i % items.length]
      return { name: `site${String(Math.floor(i / 500)).padStart(2, '0')}/case${String(i).padStart(5, '0')}.png`, root: item.root, kind: 'image' as const, levels: item.levels }
    })
    const dag = await buildDatasetDag(entries)
    await repo.putBlocks(dag.blocks)
    await repo.pin(dag.root)
    root = dag.root
    depth1Nodes = Math.ceil(N / FANOUT)
  })
  afterAll(async () => { await repo?.close() })

  it('lists every entry in name order', async () => {
    const names: string[] = []
    for await (const e of rootEntries(repo, await openRoot(repo, root))) names.push(e.name)
    expect(names).toHaveLength(N)
    expect(names[0]).toBe('site00/case00000.png')
    expect(names.at(-1)).toBe('site39/case19999.png')
  })

  it('gets one entry by path, reading the root, the index node on its way and the image', async () => {
    const counting = new CountingSource(repo)
    const out = join(dir, 'one.png')
    const result = await retrieve(counting, root, { path: 'site17/case08765.png', level: 'full', out })
    expect(result.outputs.map(o => [o.name, o.paths])).toEqual([['site17/case08765.png', [out]]])
    expect(result.failures).toEqual([])
    const img = await readInput(out)
    expect(img.kind === 'image' && img.image.width).toBe(16)
    // index nodes read: at most one per tree level below the root (looked up twice: the entry, then whether it is also a folder)
    const indexReads = new Set(counting.reads.filter(r => r.bytes > 20_000).map(r => r.cid))
    expect(indexReads.size).toBeLessThanOrEqual(2)
    expect(counting.reads.length).toBeLessThan(12)
  })

  it('gets one sub-directory by path: its 500 entries, the index nodes that hold them and a manifest', async () => {
    const counting = new CountingSource(repo)
    const outDir = join(dir, 'site07')
    const result = await retrieve(counting, root, { path: 'site07/', size: 8, out: outDir })
    expect(result.failures).toEqual([])
    expect(result.outputs).toHaveLength(500)
    expect(result.outputs.every(o => o.name.startsWith('site07/'))).toBe(true)
    const written = await files(outDir)
    expect(written).toHaveLength(501)
    expect(written).toContain('manifest.jsonl')
    // 500 consecutive names lie in at most 2 of the ~40 leaf nodes (plus the one the lookup visits)
    const distinct = new Set(counting.reads.map(r => r.cid))
    const indexNodes = [...distinct].filter(c => counting.reads.find(r => r.cid === c)!.bytes > 20_000)
    expect(indexNodes.length).toBeLessThanOrEqual(3)
    expect(indexNodes.length).toBeLessThan(depth1Nodes / 10)
  })

  it('keepOutputs: false keeps no record per entry: each output is an event, the manifest is written in entry order as they finish', async () => {
    const outDir = join(dir, 'site08-streamed')
    const events: string[] = []
    const result = await retrieve(repo, root, {
      path: 'site08/',
      size: 8,
      out: outDir,
      keepOutputs: false,
      onProgress: e => { if (e.type === 'retrieve:output') events.push(e.detail.name) }
    })
    expect(result.outputs).toEqual([])
    expect(result.written).toBe(500)
    expect(result.failures).toEqual([])
    expect(new Set(events).size).toBe(500)
    const names = Array.from({ length: 500 }, (_, i) => `site08/case${String(4000 + i).padStart(5, '0')}.png`)
    expect([...events].sort()).toEqual(names)
    const lines = (await readFile(join(outDir, 'manifest.jsonl'), 'utf8')).trim().split('\n').map(l => JSON.parse(l))
    expect(lines.map(l => l.entry)).toEqual(names)
    expect(lines.every(l => l.output === l.entry && l.width === 8)).toBe(true)
    expect(await files(outDir)).toEqual([...names, 'manifest.jsonl'].sort())
  })

  it('a path that names nothing is a clear usage error', async () => {
    await expect(retrieve(repo, root, { path: 'site99', out: join(dir, 'none') })).rejects.toMatchObject({ name: 'UsageError', message: expect.stringContaining('no entry or sub-directory "site99"') })
  })
})

describe('get of part of a dataset from the CLI', () => {
  let repoDir: string
  let cid: string
  const input = (): string => join(dir, 'in')

  beforeAll(async () => {
    repoDir = join(dir, 'cli-repo')
    for (const [i, name] of ['ct/a.png', 'ct/b.png', 'ct/sub/c.png', 'mr/d.png', 'mr/e.PNG', 'xr.png'].entries()) {
      await mkdir(join(input(), name, '..'), { recursive: true })
      await writeFile(join(input(), name), encodePng(synthesizeImage(40 + i * 8, 32, 12, false, 1, i + 3)))
    }
    const res = await cli(['publish', input(), '--repo', repoDir, '--json'])
    expect(res.code, res.stderr).toBe(0)
    cid = JSON.parse(res.stdout).root
  }, 120_000)

  it('--include/--exclude select entries, and manifest.jsonl describes exactly what was written', async () => {
    const out = join(dir, 'globbed')
    const res = await cli(['get', cid, '--repo', repoDir, '--level', 'full', '-o', out, '--include', 'ct/**', '--include', 'mr/*', '--exclude', '**/b.png', '--exclude', '*/*.PNG', '--json'])
    expect(res.code, res.stderr).toBe(0)
    const doc = JSON.parse(res.stdout)
    expect(doc.outputs.map((o: any) => o.name)).toEqual(['ct/a.png', 'ct/sub/c.png', 'mr/d.png'])
    // without --json: one line per output as it is written, then the summary
    const plain = await cli(['get', cid, '--repo', repoDir, '--level', 'full', '-o', join(dir, 'globbed-plain'), '--include', 'ct/**', '--include', 'mr/*', '--exclude', '**/b.png', '--exclude', '*/*.PNG'])
    expect(plain.code, plain.stderr).toBe(0)
    const printed = plain.stdout.trim().split('\n')
    expect(printed.slice(0, -1).map(l => relative(join(dir, 'globbed-plain'), l.split('  ')[0])).sort()).toEqual(['ct/a.png', 'ct/sub/c.png', 'mr/d.png'])
    expect(printed.at(-1)).toMatch(/^wrote 3 output\(s\) from /)
    expect(await files(out)).toEqual(['ct/a.png', 'ct/sub/c.png', 'manifest.jsonl', 'mr/d.png'])
    const lines = (await readFile(join(out, 'manifest.jsonl'), 'utf8')).trim().split('\n').map(l => JSON.parse(l))
    expect(lines.map(l => [l.entry, l.output, l.kind, l.level])).toEqual([['ct/a.png', 'ct/a.png', 'image', 2], ['ct/sub/c.png', 'ct/sub/c.png', 'image', 2], ['mr/d.png', 'mr/d.png', 'image', 2]].map(([e, o, k]) => [e, o, k, lines[0].level]))
    for (const l of lines) {
      const img = await readInput(join(out, l.output))
      if (img.kind !== 'image') throw new Error('expected an image')
      expect([l.width, l.height]).toEqual([img.image.width, img.image.height])
      expect(l.sourceFormat).toBe('png')
    }
  })

  it('<root>/<folder> gets a sub-directory; <root>/<entry> one file; verify and info take paths too', async () => {
    const sub = join(dir, 'sub-ct')
    let res = await cli(['get', `${cid}/ct`, '--repo', repoDir, '--size', '16', '-o', sub, '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(await files(sub)).toEqual(['ct/a.png', 'ct/b.png', 'ct/sub/c.png', 'manifest.jsonl'])
    const one = join(dir, 'xr-low.png')
    res = await cli(['get', `${cid}/xr.png`, '--repo', repoDir, '--level', '0', '-o', one, '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(JSON.parse(res.stdout).outputs).toEqual([expect.objectContaining({ name: 'xr.png', paths: [one], level: 0 })])
    res = await cli(['verify', `${cid}/mr`, '--repo', repoDir, '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(JSON.parse(res.stdout).images).toBe(2)
    res = await cli(['info', `${cid}/ct/sub/c.png`, '--repo', repoDir, '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(JSON.parse(res.stdout)).toMatchObject({ kind: 'image', entry: 'ct/sub/c.png', dataset: cid, width: 56 })
    res = await cli(['get', `${cid}/nothing`, '--repo', repoDir, '-o', join(dir, 'x')])
    expect(res.code).toBe(2)
    expect(res.stderr).toContain('no entry or sub-directory "nothing"')
  })
})
