/**
 * The control socket's pin and mirror endpoints (issue 16): a pin is refused until every block
 * under the root is in the repo, a mirror record until the blocks of its levels are; both name
 * what is missing. Against a real `serve`, through the control client other commands use.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { ControlClient } from '../../src/daemon/control-client.js'
import { encodePng } from '../../src/formats/index.js'
import { Repo } from '../../src/repo/index.js'
import { walkLevel } from '../../src/level/index.js'
import { cidKey } from '../../src/util/cid-key.js'
import { cli } from '../helpers/cli.js'
import { initRepo, startServe } from '../helpers/repos.js'
import type { ServeProc } from '../helpers/serve.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>
const serves: ServeProc[] = []
let client: ControlClient
let root: CID
/** Every block of the published dataset (all levels, level files included), the CIDs level 0 needs, and each block's role. */
const blocks = new Map<string, { cid: CID, bytes: Uint8Array }>()
const level0 = new Set<string>()
const roles = new Map<string, string>()

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-pin-'))
  const source = join(dir, 'source')
  await mkdir(join(dir, 'imgs'))
  for (let i = 0; i < 2; i++) await writeFile(join(dir, 'imgs', `img${i}.png`), encodePng(synthesizeImage(512, 512, 12, false, 1, i + 1)))
  const pub = await cli(['publish', join(dir, 'imgs'), '--repo', source, '--json'])
  expect(pub.code, pub.stderr).toBe(0)
  root = CID.parse(JSON.parse(pub.stdout).root)
  const repo = await Repo.open({ path: source })
  try {
    await walkLevel(repo, root, b => { level0.add(cidKey(b.cid)) }, { level: 0, levelFiles: true })
    await walkLevel(repo, root, async b => {
      roles.set(cidKey(b.cid), b.role)
      blocks.set(cidKey(b.cid), { cid: b.cid, bytes: await repo.get(b.cid) })
    }, { level: 'full', levelFiles: true })
  } finally {
    await repo.close()
  }
  const seeder = await initRepo(dir, 'seeder')
  await startServe(serves, seeder.repo)
  client = new ControlClient(seeder.repo, join(seeder.repo, 'api.sock'))
}, 120_000)

afterAll(async () => {
  await client?.close()
  await Promise.all(serves.map(async s => s.stop().catch(() => {})))
  await cleanup?.()
})

describe('pin and mirror records through the control socket', () => {
  it('a pin of a root the repo does not hold is refused, naming the missing root', async () => {
    await expect(client.pin(root)).rejects.toThrow(/cannot pin .*does not hold all of it/)
    expect(await client.isPinned(root)).toBe(false)
  })

  it('with one full-level leaf missing: the pin and a full mirror record are refused, a level-0 mirror record is accepted; with it, the pin is', async () => {
    const beyond = [...blocks.keys()].filter(k => !level0.has(k) && roles.get(k) === 'leaf')
    expect(beyond.length).toBeGreaterThan(0)
    const held = [...blocks.entries()].filter(([k]) => k !== beyond[0]).map(([, b]) => b)
    await client.putBlocks(held)
    await expect(client.pin(root)).rejects.toThrow(/cannot pin .*: 1 of its blocks are not in the repo \(leaf /)
    expect(await client.isPinned(root)).toBe(false)
    await expect(client.recordMirror(root, { level: 'full' })).rejects.toThrow(/cannot record a mirror of .*: 1 of its blocks/)
    await client.recordMirror(root, { level: 0 })
    await client.putBlocks([blocks.get(beyond[0])!])
    await client.pin(root)
    expect(await client.isPinned(root)).toBe(true)
  }, 60_000)
})
