/**
 * Pin plans and CAR roots without any other IPFS implementation: what a plan for level K pins
 * (level files recursively, roots directly) closes over exactly the blocks of `export --level K`;
 * a level-k CAR declares roots whose DAGs are complete inside it (so an importer that pins its
 * roots needs nothing else), a full CAR declares the mist root, and `import` finds the mist root
 * in both. (The same files against Kubo: test/e2e/kubo-fleet.test.ts.)
 */
import { createReadStream } from 'node:fs'
import { join } from 'node:path'
import { CarBlockIterator } from '@ipld/car'
import * as dagPb from '@ipld/dag-pb'
import type { CID } from 'multiformats/cid'
import { CID as CIDClass } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { exportCar } from '../../src/car/index.js'
import { writeExamples } from '../../src/examples/index.js'
import { planPins } from '../../src/level/index.js'
import { publish } from '../../src/publish/index.js'
import { Repo } from '../../src/repo/index.js'
import { cli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>
let repo: Repo
let root: CID

const mh = (cid: CID): string => Buffer.from(cid.multihash.bytes).toString('hex')

async function readCar (path: string): Promise<{ roots: CID[], blocks: Map<string, { cid: CID, bytes: Uint8Array }> }> {
  const it = await CarBlockIterator.fromIterable(createReadStream(path))
  const blocks = new Map<string, { cid: CID, bytes: Uint8Array }>()
  let first: CID | undefined
  for await (const b of it) {
    first ??= b.cid as CID
    blocks.set(mh(b.cid as CID), { cid: b.cid as CID, bytes: b.bytes })
  }
  expect(first?.toString()).toBe(root.toString()) // the mist root comes first
  return { roots: (await it.getRoots()) as CID[], blocks }
}

/** Every block under a dag-pb node (dag-pb links only: what a recursive pin of a level file holds). */
async function closure (cid: CID, into: Set<string>): Promise<void> {
  into.add(mh(cid))
  if (cid.code !== dagPb.code) return
  for (const link of dagPb.decode(await repo.get(cid)).Links) await closure(link.Hash, into)
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-pinplan-'))
  await writeExamples(join(dir, 'examples'))
  repo = await Repo.open({ path: join(dir, 'repo'), create: true })
  const res = await publish([join(dir, 'examples')], { repo })
  root = res.root!
}, 300_000)

afterAll(async () => {
  await repo?.close()
  await cleanup?.()
})

describe('pin-plan and CAR roots', () => {
  it.each([0, 1, 2, 'full'] as const)('the plan for level %s holds exactly the blocks of its export, and the CAR\'s roots are complete inside it', async (level) => {
    const plan = await planPins(repo, root, { level })
    const held = new Set<string>()
    for (const c of plan.recursive) await closure(CIDClass.parse(c), held)
    for (const c of plan.direct) held.add(mh(CIDClass.parse(c)))
    const car = join(dir, `l${level}.car`)
    const exp = await exportCar(repo, root, car, { level })
    const { roots, blocks } = await readCar(car)
    expect([...held].sort()).toEqual([...blocks.keys()].sort())
    expect(plan.direct[0]).toBe(root.toString())
    // the plan's byte counts: leaves + EOC + direct blocks, under the CAR's bytes (which add the level-file nodes)
    expect(plan.leafBytes + plan.directBytes).toBeLessThanOrEqual(exp.bytes)
    expect(plan.leafBytes + plan.directBytes).toBeGreaterThan(0.9 * exp.bytes)
    if (level === 'full') {
      expect(exp.layout).toBe('root')
      expect(roots.map(String)).toEqual([root.toString()])
    } else {
      // a version-2 dataset: its level directories 0..K, which the plan pins recursively too
      expect(exp.layout).toBe('level-dirs')
      expect(plan.dirs.length).toBe(level + 1)
      expect(roots.map(String)).toEqual(plan.dirs)
      for (const r of roots) {
        expect(r.code).toBe(dagPb.code)
        const under = new Set<string>()
        await closure(r, under)
        for (const b of under) expect(blocks.has(b), `${b} under declared root ${r}`).toBe(true)
      }
    }
    // import finds the mist root either way and records what it holds
    const target = join(dir, `import-${level}`)
    const imp = await cli(['import', car, '--repo', target, '--json'])
    expect(imp.code, imp.stderr).toBe(0)
    expect(JSON.parse(imp.stdout).roots).toEqual([{ root: root.toString(), level: level === 'full' ? 'full' : level }])
  }, 120_000)

  it('a CAR chosen by --size (no level directory matches it) declares the level file of every image', async () => {
    const car = join(dir, 'size64.car')
    const exp = await exportCar(repo, root, car, { size: 64 })
    const { roots, blocks } = await readCar(car)
    expect(exp.layout).toBe('level-files')
    const plan = await planPins(repo, root, { size: 64 })
    expect(plan.dirs).toEqual([])
    expect(roots.length).toBe(plan.images) // every image has its own level file here
    for (const r of roots) {
      expect(r.code).toBe(dagPb.code)
      const under = new Set<string>()
      await closure(r, under)
      for (const b of under) expect(blocks.has(b), `${b} under declared root ${r}`).toBe(true)
    }
  }, 60_000)

  it('the CLI prints marked lines, bare CIDs for ipfs pin add, and JSON', async () => {
    await repo.close()
    try {
      const json = await cli(['pin-plan', root.toString(), '--level', '1', '--repo', join(dir, 'repo'), '--json'])
      expect(json.code, json.stderr).toBe(0)
      const doc = JSON.parse(json.stdout)
      expect(doc).toMatchObject({ root: root.toString(), selection: { level: 1 } })
      const marked = await cli(['pin-plan', root.toString(), '--level', '1', '--repo', join(dir, 'repo')])
      expect(marked.stdout.trim().split('\n')).toEqual([...doc.recursive.map((c: string) => `recursive ${c}`), ...doc.direct.map((c: string) => `direct ${c}`)])
      expect(marked.stderr).toMatch(/recursive pins .* direct pins/)
      const only = await cli(['pin-plan', root.toString(), '--level', '1', '--only', 'direct', '--repo', join(dir, 'repo')])
      expect(only.stdout.trim().split('\n')).toEqual(doc.direct)
      const bad = await cli(['pin-plan', root.toString(), '--only', 'both', '--repo', join(dir, 'repo')])
      expect(bad.code).toBe(2)
    } finally {
      repo = await Repo.open({ path: join(dir, 'repo') })
    }
  }, 60_000)
})
