/**
 * `npm run bench`: the evidence a user needs, every figure against a baseline measured in the
 * same run (medians over repetitions). Writes bench/results/latest.json, bench/RESULTS.md and
 * bench/results/*.svg.
 *
 *   npm run bench                    everything (~15 min on 2 cores), loopback and a shaped netns link
 *   npm run bench -- --quick         a subset in < 2 min, no network namespaces (CI smoke use)
 *   npm run bench -- --only storage,codec,wire,pulls,kubo,quality,memory    some sections (kubo needs pulls' dataset: --only kubo runs without the pulls section)
 *   npm run bench -- --no-netns      skip the shaped link
 *   npm run bench -- --scale N [--px 128] [--store fs|lmdb|both]   archive scale: its own run (bench/scale.ts, bench/SCALE.md)
 *   npm run bench -- --blockstores [N]      blockstore-fs against LevelDB and LMDB (bench/blockstore.ts, bench/BLOCKSTORES.md)
 *
 * Modules: storage.ts (1), wire.ts (2), codec.ts (3), pulls.ts (4), quality.ts (5), memory.ts (6);
 * data.ts builds the inputs, render.ts the tables and charts, procs/ the child processes.
 */
import 'promise.withresolvers/auto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { runCodec } from './codec.js'
import { pullDataset } from './data.js'
import { cleanup, killAll, machine, newRunDir, ROOT, type Ctx } from './lib.js'
import { runMemory } from './memory.js'
import { netnsAvailable, netnsDown } from './netns.js'
import { runKubo } from './kubo.js'
import { runPulls } from './pulls.js'
import { runQuality } from './quality.js'
import { scaleMain } from './scale.js'
import { blockstoresMain } from './blockstore.js'
import { renderAll } from './render.js'
import { runStorage } from './storage.js'
import { runWire } from './wire.js'

const argv = process.argv.slice(2)
const quick = argv.includes('--quick')
const onlyArg = argv.indexOf('--only')
const only = onlyArg >= 0 ? new Set(argv[onlyArg + 1].split(',')) : undefined
const want = (s: string): boolean => only == null || only.has(s)
const useNetns = !quick && !argv.includes('--no-netns') && netnsAvailable()

const dir = await newRunDir()
const ctx: Ctx = {
  quick,
  reps: quick ? 1 : 3,
  dir,
  cache: process.env.MIST_BENCH_CACHE ?? join(ROOT, 'bench', '.cache'),
  log: line => { process.stderr.write(`[${((performance.now()) / 1000).toFixed(0).padStart(4)} s] ${line}\n`) }
}

let tornDown = false
async function teardown (): Promise<void> {
  if (tornDown) return
  tornDown = true
  killAll()
  if (useNetns) netnsDown()
  await cleanup(dir)
}
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.once(sig, () => { void teardown().finally(() => process.exit(130)) })
}

const storesArg = argv.indexOf('--blockstores')
if (storesArg >= 0) {
  const given = argv[storesArg + 1]
  const n = given != null && /^\d+$/.test(given) ? Number(given) : 60_000
  try {
    process.stdout.write(await blockstoresMain(ctx, n))
  } finally {
    await teardown()
  }
  process.exit(0)
}

const scaleArg = argv.indexOf('--scale')
if (scaleArg >= 0) {
  const n = Number(argv[scaleArg + 1])
  const pxArg = argv.indexOf('--px')
  const px = pxArg >= 0 ? Number(argv[pxArg + 1]) : 128
  const storeArg = argv.indexOf('--store')
  const store = storeArg >= 0 ? argv[storeArg + 1] : 'lmdb'
  if (!Number.isInteger(n) || n < 1 || !Number.isInteger(px) || px < 8 || !['fs', 'lmdb', 'both'].includes(store)) throw new Error('usage: npm run bench -- --scale N [--px PX] [--store fs|lmdb|both]')
  try {
    process.stdout.write(await scaleMain(ctx, n, px, store === 'both' ? ['lmdb', 'fs'] : [store as 'fs' | 'lmdb']))
  } finally {
    await teardown()
  }
  process.exit(0)
}

const results: any = { machine: machine(), quick, reps: ctx.reps, started: new Date().toISOString(), command: `npm run bench${quick ? ' -- --quick' : ''}`, sections: {} }
const t0 = performance.now()
try {
  const section = async (name: string, fn: () => Promise<any>): Promise<void> => {
    if (!want(name)) return
    const s = performance.now()
    ctx.log(`${name}…`)
    try {
      results.sections[name] = await fn()
    } catch (err: any) {
      ctx.log(`${name} FAILED: ${err?.stack ?? err}`)
      results.sections[name] = { error: String(err?.message ?? err) }
    }
    results.sections[name].seconds = (performance.now() - s) / 1000
  }
  await section('storage', async () => runStorage(ctx))
  await section('codec', async () => runCodec(ctx))
  await section('wire', async () => runWire(ctx))
  await section('quality', async () => runQuality(ctx))
  if (want('pulls') || want('kubo')) {
    ctx.log('pull dataset…')
    const ds = await pullDataset(ctx)
    results.dataset = { root: ds.root, images: ds.images, entries: ds.entries, files: ds.files.length, levels: ds.levels, publishWallMs: ds.publishWallMs, publishRssKiB: ds.publishRssKiB }
    ctx.log(`  ${ds.images} images in ${ds.entries} entries, ${ds.files.length} files`)
    await section('pulls', async () => {
      const out: any = { loopback: await runPulls(ctx, ds, false) }
      if (useNetns) out.shaped = await runPulls(ctx, ds, true)
      else out.shapedSkipped = quick ? 'quick mode' : 'no network namespaces (not root, or --no-netns)'
      return out
    })
    // the same dataset from a Kubo seeder beside a mist-p2p seeder (skipped without MIST_KUBO)
    await section('kubo', async () => runKubo(ctx, ds))
  }
  await section('memory', async () => runMemory(ctx))
} finally {
  results.seconds = (performance.now() - t0) / 1000
  await teardown()
}
await mkdir(join(ROOT, 'bench', 'results'), { recursive: true })
await writeFile(join(ROOT, 'bench', 'results', quick ? 'quick.json' : 'latest.json'), JSON.stringify(results, null, 2) + '\n')
const md = await renderAll(results, join(ROOT, 'bench'))
process.stdout.write(md)
