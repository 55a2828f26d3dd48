/**
 * Crashes and full or read-only disks: kill -9 of the publisher, the seeder and the getter
 * mid-way; after a rerun everything completes and verifies, no output file under its final
 * name is ever partial, and no pinned root lacks blocks. A repo on a 2 MiB tmpfs and a
 * read-only repo fail with a clear error and pin nothing half-written.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdir, readFile, readdir, writeFile, cp } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { Repo } from '../../src/repo/index.js'
import { verifyRoot } from '../../src/verify/index.js'
import { BIN, cli } from '../helpers/cli.js'
import { ServeProc } from '../helpers/serve.js'
import { countStoredBlocks } from '../helpers/stored-blocks.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>
const mounts: string[] = []
const serves: ServeProc[] = []

const countBlocks = countStoredBlocks

async function waitFor (pred: () => Promise<boolean>, ms = 60_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await pred())) {
    if (Date.now() > end) throw new Error('condition not reached')
    await new Promise(resolve => setTimeout(resolve, 20))
  }
}

/** Every pinned root of a repo has every block, each intact (offline verify without decoding). */
async function pinnedRootsComplete (path: string): Promise<number> {
  const repo = await Repo.open({ path })
  try {
    let n = 0
    for await (const pin of repo.pins()) {
      const v = await verifyRoot(repo, CID.parse(pin.root), { decode: false })
      expect(v.problems, `pinned ${pin.root}`).toEqual([])
      n++
    }
    return n
  } finally { await repo.close() }
}

/** Every file under `out` with a final name equals the reference output of the same name; returns how many images (the manifest is not counted). */
async function noPartialOutputs (out: string, ref: string): Promise<number> {
  let n = 0
  const files = await readdir(out).catch(() => [] as string[])
  for (const f of files) {
    if (f.endsWith('.tmp') || f.includes('.tmp')) continue
    if (f === 'manifest.jsonl') {
      // a get that failed part-way lists exactly the outputs it wrote, each line as the full run writes it
      const refLines = new Set((await readFile(join(ref, f), 'utf8')).split('\n').filter(Boolean))
      const lines = (await readFile(join(out, f), 'utf8')).split('\n').filter(Boolean)
      for (const line of lines) {
        expect(refLines.has(line), `manifest line ${line}`).toBe(true)
        expect(files, `manifest names ${JSON.parse(line).output}`).toContain(JSON.parse(line).output)
      }
      continue
    }
    expect(Buffer.compare(await readFile(join(out, f)), await readFile(join(ref, f))), `${f} is partial`).toBe(0)
    n++
  }
  return n
}

let input: string
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-crash-'))
  input = join(dir, 'in')
  await mkdir(input)
  for (let i = 0; i < 10; i++) await writeFile(join(input, `c${i}.png`), encodePng(synthesizeImage(768, 768, 12, false, 1, 60 + i)))
})

afterAll(async () => {
  for (const m of mounts.reverse()) { try { execFileSync('umount', ['-l', m]) } catch {} }
  await Promise.all(serves.map(async s => s.kill().catch(() => {})))
  await cleanup?.()
})

let root: string
let seeder: string
let live: ServeProc

describe('kill -9', () => {

  it('the publisher mid-publish: no pinned root lacks blocks; a rerun completes and verifies', async () => {
    seeder = join(dir, 'seeder')
    expect((await cli(['init', '--repo', seeder])).code).toBe(0)
    const child = spawn(process.execPath, [BIN, 'publish', input, '--repo', seeder, '--json'], { stdio: 'ignore' })
    const exited = new Promise(resolve => child.on('close', resolve))
    await waitFor(async () => (await countBlocks(seeder)) > 8)
    child.kill('SIGKILL')
    await exited
    expect(await countBlocks(seeder)).toBeGreaterThan(0)
    await pinnedRootsComplete(seeder) // whatever was pinned before the kill is complete
    const rerun = await cli(['publish', input, '--repo', seeder, '--json'])
    expect(rerun.code, rerun.stderr).toBe(0)
    root = JSON.parse(rerun.stdout).root
    const v = await cli(['verify', root, '--repo', seeder])
    expect(v.code, v.stdout).toBe(0)
    expect(await pinnedRootsComplete(seeder)).toBeGreaterThan(0)
    const ref = await cli(['get', root, '-o', join(dir, 'ref'), '--repo', seeder])
    expect(ref.code, ref.stderr).toBe(0)
  })

  it('the seeder mid-transfer: the getter fails cleanly; with the seeder back, a rerun completes', async () => {
    let s = new ServeProc(['--repo', seeder, '--listen', '/ip4/127.0.0.1/tcp/0'])
    serves.push(s)
    const getter = join(dir, 'getter-s')
    expect((await cli(['init', '--repo', getter, '--swarm-key', join(seeder, 'swarm.key')])).code).toBe(0)
    const out = join(dir, 'out-s')
    const args = ['get', root, '-o', out, '--repo', getter, '--peer', await s.addr(), '--timeout', '3']
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'ignore', 'pipe'] })
    let err = ''
    child.stderr.on('data', d => { err += d })
    const exited = new Promise<number | null>(resolve => child.on('close', resolve))
    await waitFor(async () => (await countBlocks(getter)) > 3)
    await s.kill()
    expect(await exited).toBe(1)
    expect(err).toMatch(/MissingBlockError|NetworkError/)
    expect(await noPartialOutputs(out, join(dir, 'ref'))).toBe(0)
    s = new ServeProc(['--repo', seeder, '--listen', '/ip4/127.0.0.1/tcp/0'])
    serves.push(s)
    live = s
    const rerun = await cli(['get', root, '-o', out, '--repo', getter, '--peer', await s.addr()])
    expect(rerun.code, rerun.stderr).toBe(0)
    expect(await noPartialOutputs(out, join(dir, 'ref'))).toBe(10)
    const v = await cli(['verify', root, '--repo', getter, '--peer', await s.addr()])
    expect(v.code, v.stdout).toBe(0)
    await pinnedRootsComplete(getter)
  })

  it('the getter, repeatedly, mid-transfer and mid-write: never a partial output under its final name', async () => {
    const s = live
    const getter = join(dir, 'getter-g')
    expect((await cli(['init', '--repo', getter, '--swarm-key', join(seeder, 'swarm.key')])).code).toBe(0)
    const out = join(dir, 'out-g')
    const args = [BIN, 'get', root, '-o', out, '--repo', getter, '--peer', await s.addr()]
    for (const delay of [600, 1200, 1800, 2600]) {
      const child = spawn(process.execPath, args, { stdio: 'ignore' })
      const exited = new Promise(resolve => child.on('close', resolve))
      await new Promise(resolve => setTimeout(resolve, delay))
      child.kill('SIGKILL')
      await exited
      await noPartialOutputs(out, join(dir, 'ref'))
    }
    const rerun = await cli(args.slice(1))
    expect(rerun.code, rerun.stderr).toBe(0)
    expect(await noPartialOutputs(out, join(dir, 'ref'))).toBe(10)
    await pinnedRootsComplete(getter)
  })
})

function tryMount (args: string[]): boolean {
  try { execFileSync('mount', args, { stdio: 'ignore' }); return true } catch { return false }
}

describe('disk full and read-only repo', () => {
  it('publish into a repo on a full 2 MiB tmpfs fails clearly and pins nothing half-written', async (ctx) => {
    const mnt = join(dir, 'tiny')
    await mkdir(mnt)
    if (!tryMount(['-t', 'tmpfs', '-o', 'size=2m', 'tmpfs', mnt])) { console.warn('[skip] cannot mount tmpfs (not root?)'); ctx.skip(); return }
    mounts.push(mnt)
    const repo = join(mnt, 'repo')
    const res = await cli(['publish', input, '--repo', repo, '--json'])
    expect(res.code).toBe(1)
    expect(res.stdout + res.stderr).toMatch(/ENOSPC|no space/i)
    expect(res.stderr + res.stdout).not.toMatch(/\n\s+at /) // a message, not a stack trace
    // the publish stops at the repo's failure: it is not repeated for each of the 10 files
    expect((res.stdout + res.stderr).match(/ENOSPC/g)?.length ?? 0).toBeLessThanOrEqual(2)
    // an output written to the full disk: an error, and no partial file under its final name
    const get = await cli(['get', root, '-o', join(mnt, 'out'), '--repo', seeder])
    expect(get.code).toBe(1)
    expect(get.stderr).toMatch(/ENOSPC|no space/i)
    await noPartialOutputs(join(mnt, 'out'), join(dir, 'ref'))
    // room to open the repo again (opening writes to the datastore), then inspect the pins
    expect(tryMount(['-o', 'remount,size=64m', mnt])).toBe(true)
    await pinnedRootsComplete(repo)
  })

  it('a read-only repo: a clear RepoError, nothing written', async (ctx) => {
    const repo = join(dir, 'ro-src')
    expect((await cli(['publish', join(input, 'c0.png'), '--repo', repo])).code).toBe(0)
    const ro = join(dir, 'ro')
    await mkdir(ro)
    await cp(repo, join(dir, 'ro-copy'), { recursive: true })
    if (!tryMount(['--bind', join(dir, 'ro-copy'), ro])) { console.warn('[skip] cannot bind mount'); ctx.skip(); return }
    mounts.push(ro)
    expect(tryMount(['-o', 'remount,bind,ro', ro])).toBe(true)
    const before = await countBlocks(ro)
    const res = await cli(['publish', join(input, 'c1.png'), '--repo', ro])
    expect(res.code).toBe(1)
    expect(res.stderr).toMatch(/RepoError: .*(read-only|EROFS)/)
    expect(await countBlocks(ro)).toBe(before)
  })
})

export { CID }
