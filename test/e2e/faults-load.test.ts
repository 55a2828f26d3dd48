/**
 * Load: one seeder and 12 concurrent getters (separate processes, 127.0.0.1) pulling a dataset
 * at mixed levels: all complete, every output bit-exact with a local decode of the same level.
 * The seeder's memory stays bounded across repeated rounds. The swarm key never appears in a
 * block, an output or anything a process printed. Figures are printed, never asserted as timings.
 */
import { spawn } from 'node:child_process'
import { readFile, readdir, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { writeExamples } from '../../src/examples/index.js'
import { BIN, cli } from '../helpers/cli.js'
import { ServeProc } from '../helpers/serve.js'
import { countStoredBlocks } from '../helpers/stored-blocks.js'
import { tempDir } from '../helpers/tmp.js'

const GETTERS = 12
const SELECTIONS = [['--level', '0'], ['--size', '128'], ['--size', '256'], ['--level', 'full']]

let dir: string
let cleanup: () => Promise<void>
let seederRepo: string
let root: string
let seeder: ServeProc
const printed: string[] = []
const children = new Set<ReturnType<typeof spawn>>()

function rssOf (pid: number): Promise<{ rss: number, hwm: number }> {
  return readFile(`/proc/${pid}/status`, 'utf8').then(s => ({
    rss: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) * 1024,
    hwm: Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) * 1024
  }))
}

async function run (args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return new Promise(resolve => {
    const child = spawn(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(child)
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += d })
    child.stderr.on('data', d => { stderr += d })
    child.on('close', code => { children.delete(child); printed.push(stdout, stderr); resolve({ code, stdout, stderr }) })
  })
}

async function filesUnder (d: string): Promise<string[]> {
  return (await readdir(d, { recursive: true, withFileTypes: true })).filter(e => e.isFile()).map(e => join(e.parentPath, e.name).slice(d.length + 1)).sort()
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-load-'))
  seederRepo = join(dir, 'seeder')
  expect((await cli(['init', '--repo', seederRepo])).code).toBe(0)
  await mkdir(join(dir, 'examples'))
  await writeExamples(join(dir, 'examples'))
  const pub = await cli(['publish', join(dir, 'examples'), '--repo', seederRepo, '--json'])
  expect(pub.code, pub.stderr).toBe(0)
  root = JSON.parse(pub.stdout).root
  // reference outputs: each selection decoded locally, before the node runs
  for (const [i, sel] of SELECTIONS.entries()) {
    const ref = await cli(['get', root, ...sel, '-o', join(dir, `ref-${i}`), '--repo', seederRepo])
    expect(ref.code, ref.stderr).toBe(0)
  }
  seeder = new ServeProc(['--repo', seederRepo, '--listen', '/ip4/127.0.0.1/tcp/0'])
  await seeder.ready
  for (let i = 0; i < GETTERS; i++) {
    const init = await cli(['init', '--repo', join(dir, `getter-${i}`), '--swarm-key', join(seederRepo, 'swarm.key')])
    expect(init.code, init.stderr).toBe(0)
  }
}, 300_000)

afterAll(async () => {
  // a test that timed out leaves its getters running: stop them with the seeder
  for (const child of children) child.kill('SIGKILL')
  await seeder?.kill().catch(() => {})
  await cleanup?.()
})

describe('load', () => {
  it(`one seeder and ${GETTERS} concurrent getters at mixed levels: all complete, all bit-exact`, async () => {
    const addr = await seeder.addr()
    const t0 = performance.now()
    const results = await Promise.all(Array.from({ length: GETTERS }, async (_, i) => run(['get', root, ...SELECTIONS[i % SELECTIONS.length], '-o', join(dir, `out-${i}`), '--repo', join(dir, `getter-${i}`), '--peer', addr, '--json'])))
    const seconds = (performance.now() - t0) / 1000
    let bytes = 0
    for (const [i, r] of results.entries()) {
      expect(r.code, `getter ${i}: ${r.stderr}`).toBe(0)
      bytes += JSON.parse(r.stdout).fetched.freshBytes
      const ref = join(dir, `ref-${i % SELECTIONS.length}`)
      const out = join(dir, `out-${i}`)
      const names = await filesUnder(ref)
      expect(await filesUnder(out)).toEqual(names)
      for (const name of names) expect(Buffer.compare(await readFile(join(out, name)), await readFile(join(ref, name))), `getter ${i} ${name}`).toBe(0)
    }
    const mem = await rssOf(seeder.proc.pid as number)
    console.log(`load: ${GETTERS} getters, ${(bytes / 2 ** 20).toFixed(1)} MiB served in ${seconds.toFixed(1)} s = ${(bytes / 2 ** 20 / seconds).toFixed(1)} MiB/s from the seeder; seeder peak RSS ${(mem.hwm / 2 ** 20).toFixed(0)} MiB`)
  }, 300_000)

  it('a long-running seeder keeps bounded memory over repeated rounds of fetches', async () => {
    const addr = await seeder.addr()
    const samples: number[] = []
    for (let round = 0; round < 4; round++) {
      // each round: 3 fresh getters pull the full dataset (everything the seeder holds moves again)
      await Promise.all(Array.from({ length: 3 }, async (_, j) => {
        const repo = join(dir, `round-${round}-${j}`)
        expect((await cli(['init', '--repo', repo, '--swarm-key', join(seederRepo, 'swarm.key')])).code).toBe(0)
        const r = await run(['mirror', root, '--repo', repo, '--peer', addr])
        expect(r.code, r.stderr).toBe(0)
      }))
      samples.push((await rssOf(seeder.proc.pid as number)).rss)
    }
    console.log(`seeder RSS after each round (MiB): ${samples.map(s => (s / 2 ** 20).toFixed(0)).join(', ')}`)
    // bounded: the last rounds do not keep growing past the first rounds' level (generous margin for GC timing)
    const early = Math.max(samples[0], samples[1])
    expect(samples[samples.length - 1]).toBeLessThan(early * 1.5 + 64 * 2 ** 20)
  }, 600_000)

  it('the swarm key appears in no block, no output and nothing a process printed', async () => {
    const keyText = (await readFile(join(seederRepo, 'swarm.key'), 'utf8')).trim().split('\n').pop() as string
    const keyBytes = Buffer.from(keyText, 'hex')
    expect(keyBytes.length).toBe(32)
    const needles = [Buffer.from(keyText), Buffer.from(keyText.toUpperCase()), keyBytes, Buffer.from(keyBytes.toString('base64'))]
    const scan = async (d: string): Promise<number> => {
      let n = 0
      for (const name of await filesUnder(d)) {
        if (name === 'swarm.key') continue
        const bytes = await readFile(join(d, name))
        for (const needle of needles) expect(bytes.includes(needle), `${join(d, name)} holds the swarm key`).toBe(false)
        n++
      }
      return n
    }
    // the blockstore's own files are scanned whole (an LMDB database holds every block, and freed pages too)
    expect(await scan(join(seederRepo, 'blocks'))).toBeGreaterThan(0)
    expect(await countStoredBlocks(seederRepo)).toBeGreaterThan(100)
    expect(await scan(join(dir, 'getter-0'))).toBeGreaterThan(2)
    expect(await countStoredBlocks(join(dir, 'getter-0'))).toBeGreaterThan(10)
    expect(await scan(join(dir, 'out-3'))).toBeGreaterThan(0)
    for (const text of [...printed, seeder.stdout, seeder.stderr]) {
      expect(text.includes(keyText) || text.toLowerCase().includes(keyText.toLowerCase())).toBe(false)
    }
  })
})
