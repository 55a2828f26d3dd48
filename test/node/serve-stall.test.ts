/**
 * Stalled /mist/blocks/1.0.0 streams against a real `serve` (issue 16, item 6): an attacker process
 * with the swarm key opens many streams (several identities, 16 streams each), each asking for 512
 * large blocks, and never reads. The seeder's RSS must stay under a stated bound during the attack
 * and fall back after the attacker leaves, and an honest getter must still complete meanwhile.
 */
import { spawn, type ChildProcess } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { Repo } from '../../src/repo/index.js'
import { cli } from '../helpers/cli.js'
import { initRepo, startServe } from '../helpers/repos.js'
import type { ServeProc } from '../helpers/serve.js'
import { tempDir } from '../helpers/tmp.js'

const ATTACKER = fileURLToPath(new URL('../helpers/stall-attacker.mjs', import.meta.url))
const MIB = 1024 * 1024
/** Attacker identities and streams per identity (16 is libp2p's per-connection stream limit we set). */
const IDENTITIES = 20
const STREAMS = 16
/** Stated bound: what the attack may add to the seeder's RSS (docs/DESIGN.md). */
const ATTACK_BOUND = 160 * MIB
/** What may remain 30 s after the attacker left. */
const FALLBACK_BOUND = 64 * MIB

let dir: string
let cleanup: () => Promise<void>
const serves: ServeProc[] = []
let attacker: ChildProcess | undefined

async function rssOf (pid: number): Promise<number> {
  const s = await readFile(`/proc/${pid}/status`, 'utf8')
  return Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) * 1024
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-stall-'))
}, 60_000)

afterAll(async () => {
  attacker?.kill('SIGKILL')
  await Promise.all(serves.map(async s => s.kill().catch(() => {})))
  await cleanup?.()
})

describe('a member that opens block streams and never reads', () => {
  it(`${IDENTITIES}x${STREAMS} stalled streams of 512 large blocks: seeder RSS +<${ATTACK_BOUND / MIB} MiB, falls back, honest get completes`, async () => {
    const seeder = await initRepo(dir, 'seeder')
    await mkdir(join(dir, 'imgs'))
    // noisy 16-bit images: full-level leaves at the 256 KiB leaf limit
    for (let i = 0; i < 4; i++) await writeFile(join(dir, 'imgs', `big${i}.png`), encodePng(synthesizeImage(1536, 1536, 16, false, 1, i + 11)))
    const pub = await cli(['publish', join(dir, 'imgs'), '--repo', seeder.repo, '--json'])
    expect(pub.code, pub.stderr).toBe(0)
    const root = JSON.parse(pub.stdout).root
    // the largest blocks of the repo
    const repo = await Repo.open({ path: seeder.repo })
    const sized: Array<{ cid: string, size: number }> = []
    for await (const { cid } of repo.blockstore.getAll()) sized.push({ cid: cid.toString(), size: (await repo.get(cid)).byteLength })
    await repo.close()
    sized.sort((a, b) => b.size - a.size)
    const largest = sized.slice(0, 8)
    console.log(`[stall] largest blocks: ${largest.map(b => (b.size / MIB).toFixed(2)).join(', ')} MiB`)
    expect(largest[0].size).toBeGreaterThan(200 * 1024) // leaves are at most 256 KiB
    await writeFile(join(dir, 'cids.json'), JSON.stringify(largest.map(b => b.cid)))

    const serve = await startServe(serves, seeder.repo)
    const pid = serve.proc.pid as number
    const addr = await serve.addr()
    // warm up: one honest pull, so the baseline includes a served pull's working set
    const warm = await initRepo(dir, 'warm', seeder.repo)
    const w = await cli(['get', root, '--level', 'full', '--format', 'j2c', '-o', join(dir, 'warm-out'), '--repo', warm.repo, '--peer', addr, '--json'])
    expect(w.code, w.stderr).toBe(0)
    await new Promise(resolve => setTimeout(resolve, 2000))
    const baseline = await rssOf(pid)

    attacker = spawn(process.execPath, [ATTACKER, '--dir', dir, '--key', join(seeder.repo, 'swarm.key'), '--target', addr, '--cids', join(dir, 'cids.json'), '--identities', String(IDENTITIES), '--streams', String(STREAMS)], { stdio: ['ignore', 'pipe', 'inherit'] })
    let attackerOut = ''
    attacker.stdout?.on('data', d => { attackerOut += d })
    let peak = baseline
    const sampler = setInterval(() => { void rssOf(pid).then(r => { peak = Math.max(peak, r) }).catch(() => {}) }, 100)
    try {
      // all streams opened (or refused by the seeder)
      const t0 = Date.now()
      while (!attackerOut.includes('"streams"') && Date.now() - t0 < 120_000) await new Promise(resolve => setTimeout(resolve, 200))
      // an honest getter pulls the whole dataset while the attack is on
      const honest = await initRepo(dir, 'honest', seeder.repo)
      const g = await cli(['get', root, '--level', 'full', '--format', 'j2c', '-o', join(dir, 'honest-out'), '--repo', honest.repo, '--peer', addr, '--json', '--timeout', '60'], { timeoutMs: 180_000 })
      expect(g.code, g.stderr).toBe(0)
      expect(JSON.parse(g.stdout).outputs).toHaveLength(4)
      // keep the attack on a while longer: a stall must not pin memory as time passes
      await new Promise(resolve => setTimeout(resolve, 15_000))
      const lines = attackerOut.trim().split('\n')
      console.log(`[stall] attacker: first ${lines[0]}, last ${lines[lines.length - 1]}`)
    } finally {
      attacker.kill('SIGTERM')
      await new Promise(resolve => attacker?.on('close', resolve))
      attacker = undefined
    }
    const during = peak
    // after the attacker left
    // after the attacker left: what it made the seeder hold is released (blocks it read for the
    // attacker are garbage until V8's next collection, so this waits up to 30 s for RSS to settle)
    const afterTimes: number[] = []
    for (let t = 0; t < 30 && (afterTimes.length === 0 || afterTimes[afterTimes.length - 1] - baseline >= FALLBACK_BOUND); t++) {
      await new Promise(resolve => setTimeout(resolve, 1000))
      afterTimes.push(await rssOf(pid))
    }
    const after = afterTimes[afterTimes.length - 1]
    clearInterval(sampler)
    console.log(`[stall] seeder RSS: baseline ${(baseline / MIB).toFixed(0)} MiB, peak during attack ${(during / MIB).toFixed(0)} MiB, ${afterTimes.length} s after ${(after / MIB).toFixed(0)} MiB`)
    expect(during - baseline).toBeLessThan(ATTACK_BOUND)
    expect(after - baseline).toBeLessThan(FALLBACK_BOUND)
  }, 600_000)
})
