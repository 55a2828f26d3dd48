/**
 * `npm run bench -- --scale N [--px 128]`: archive scale, its own run (not part of the 15-minute one).
 * Generates N deterministic synthetic 12-bit images of PX x PX on disk as a tree of folders of 1,000
 * (streamed, cached between runs), then measures in one run: publish; info of the dataset root;
 * `serve` + `get --size 64` and `get --level full` over 127.0.0.1 into fresh repos; the same full get
 * again (nothing left to fetch); `verify` of the getter's repo; one entry and one sub-directory by
 * path. Each step: wall time, images/s, MB/s, peak RSS (VmHWM) of every process, repo files and bytes.
 * `--store fs|lmdb|both` picks the blockstore of every repo of the run (default lmdb, what new repos
 * get); `both` runs the whole sequence once per store, one after the other, and compares them.
 * Writes bench/results/scale-<N>-<PX>[-fs].json and rewrites bench/SCALE.md from every scale-*.json.
 */
import { existsSync } from 'node:fs'
import { mkdir, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { encodePng } from '../src/formats/index.js'
import { syntheticRadiograph } from './data.js'
import { BIN, Daemon, machine, mist, ROOT, type Ctx, type Metered } from './lib.js'

const PER_FOLDER = 1000

export interface ScaleStep {
  step: string
  wallMs: number
  images: number
  /** Bytes the step moved or wrote (fetched blocks, published blocks, written outputs). */
  bytes?: number
  rssKiB: Record<string, number>
  /** Peak anonymous resident memory (RssAnon, sampled): the process's own, without mapped file pages. */
  anonKiB?: Record<string, number>
  /** Block files and their bytes; `disk`: the bytes they occupy on disk (allocated blocks). */
  repo?: { files: number, bytes: number, disk?: number }
  note?: string
}

/** The synthetic archive: PX x PX 12-bit PNGs, folder-NNN/case-NNNNNNN.png, written one at a time. */
async function writeArchive (dir: string, n: number, px: number, log: (s: string) => void): Promise<void> {
  const done = join(dir, '.complete')
  if (existsSync(done)) return
  await rm(dir, { recursive: true, force: true })
  for (let i = 0; i < n; i++) {
    const folder = join(dir, `folder-${String(Math.floor(i / PER_FOLDER)).padStart(3, '0')}`)
    if (i % PER_FOLDER === 0) await mkdir(folder, { recursive: true })
    await writeFile(join(folder, `case-${String(i).padStart(7, '0')}.png`), encodePng(syntheticRadiograph(px, px, 5000 + i)))
    if ((i + 1) % 10_000 === 0) log(`  generated ${i + 1} / ${n}`)
  }
  await writeFile(done, '')
}

async function repoSize (repo: string): Promise<{ files: number, bytes: number, disk: number }> {
  let files = 0
  let bytes = 0
  let disk = 0
  for (const e of await readdir(join(repo, 'blocks'), { recursive: true, withFileTypes: true }).catch(() => [])) {
    if (!e.isFile() || e.name.endsWith('-lock')) continue
    files++
    const st = await stat(join(e.parentPath, e.name))
    bytes += st.size
    disk += st.blocks * 512
  }
  return { files, bytes, disk }
}

const rss = (m: Metered): number => m.meter?.maxRssKiB ?? NaN
const anon = (m: Metered | undefined): number => m?.meter?.maxRssAnonKiB ?? NaN

export type ScaleStore = 'fs' | 'lmdb'

export async function runScale (ctx: Ctx, n: number, px: number, steps: ScaleStep[] = [], store: ScaleStore = 'lmdb'): Promise<{ n: number, px: number, root: string, steps: ScaleStep[] }> {
  const input = join(ctx.cache, `scale-${n}-${px}`)
  // every repo of the run (made by the CLI children) gets this blockstore
  process.env.MIST_P2P_BLOCKSTORE = store
  await rm(join(ctx.dir, 'scale'), { recursive: true, force: true })
  ctx = { ...ctx, dir: join(ctx.dir, 'scale') }
  await mkdir(ctx.dir, { recursive: true })
  // a step of an archive-sized run takes many minutes: the runner's 10-minute default would kill it
  const timeoutMs = Math.max(600_000, n * 40 * (px / 128) ** 2)
  ctx.log(`scale: ${n} images of ${px}x${px} in ${input}`)
  await writeArchive(input, n, px, ctx.log)
  const seeder = join(ctx.dir, 'seeder')
  await mist(['init', '--repo', seeder, '--json'])
  const key = join(seeder, 'swarm.key')
  const freshGetter = async (name: string): Promise<string> => {
    const repo = join(ctx.dir, name)
    await mist(['init', '--repo', repo, '--swarm-key', key, '--json'])
    return repo
  }

  ctx.log('  publish…')
  const pub = await mist(['publish', input, '--repo', seeder, '--json'], { meterDir: ctx.dir, timeoutMs })
  const doc = JSON.parse(pub.stdout)
  const root: string = doc.root
  const published = await repoSize(seeder)
  steps.push({ step: 'publish', wallMs: pub.wallMs, images: doc.images.length, bytes: published.bytes, rssKiB: { publish: rss(pub) }, anonKiB: { publish: anon(pub) }, repo: published, note: `${doc.failures.length} failed` })

  const info = await mist(['info', root, '--repo', seeder, '--json'], { meterDir: ctx.dir, timeoutMs })
  steps.push({ step: 'info', wallMs: info.wallMs, images: n, rssKiB: { info: rss(info) }, anonKiB: { info: anon(info) } })

  const served = performance.now()
  const serve = new Daemon(BIN, ['serve', '--repo', seeder, '--listen', '/ip4/127.0.0.1/tcp/0', '--json'], { meterDir: ctx.dir })
  try {
    const addr: string = (await serve.ready).multiaddrs[0]
    const get = async (step: string, repo: string, args: string[], images: number): Promise<void> => {
      ctx.log(`  ${step}…`)
      const out = join(ctx.dir, `out-${step.replace(/\W+/g, '-')}`)
      // as a user runs it on an archive: no --json (which keeps every output's record to print them
      // all at the end); the outputs are counted from the summary line, the bytes from the repo
      const before = await repoSize(repo)
      const r = await mist(['get', ...args, '-o', out, '--repo', repo, '--peer', addr, '--timeout', '120'], { meterDir: ctx.dir, allowFail: true, timeoutMs })
      if (r.code !== 0) throw new Error(`${step}: get exited ${r.code}: ${r.stderr.slice(-2000)}`)
      const summary = /wrote (\d+) output\(s\)[^\n]*?(?:, (\d+) failed)?\n*$/.exec(r.stdout)
      if (summary == null) throw new Error(`${step}: no summary line in get's output: ${r.stdout.slice(-500)}`)
      const after = await repoSize(repo)
      steps.push({ step, wallMs: r.wallMs, images, bytes: after.bytes - before.bytes, rssKiB: { get: rss(r) }, anonKiB: { get: anon(r) }, repo: after, note: `${summary[1]} outputs, ${summary[2] ?? 0} failed` })
    }
    await get('get --size 64', await freshGetter('g64'), [root, '--size', '64'], n)
    const full = await freshGetter('gfull')
    await get('get --level full', full, [root, '--level', 'full'], n)
    await get('get --level full again (nothing to fetch)', full, [root, '--level', 'full'], n)
    await get('get one entry by path', await freshGetter('gone'), [`${root}/folder-000/case-0000007.png`, '--level', 'full'], 1)
    await get('get one sub-directory by path', await freshGetter('gdir'), [`${root}/folder-000`, '--level', 'full'], Math.min(n, PER_FOLDER))
  } finally {
    const m = await serve.stop()
    steps.push({ step: 'serve (all the gets above)', wallMs: performance.now() - served, images: n, rssKiB: { serve: m?.maxRssKiB ?? NaN }, anonKiB: { serve: m?.maxRssAnonKiB ?? NaN } })
  }
  // the seeder's repo holds every block (a getter's has no UnixFS level files: get does not fetch them)
  ctx.log('  verify…')
  const v = await mist(['verify', root, '--repo', seeder, '--json'], { meterDir: ctx.dir, allowFail: true, timeoutMs })
  if (v.stdout.trim() === '') throw new Error(`verify exited ${v.code} without a result after ${(v.wallMs / 1000).toFixed(0)} s: ${v.stderr.slice(-1000)}`)
  const vd = JSON.parse(v.stdout)
  steps.push({ step: 'verify (every block, every level decoded)', wallMs: v.wallMs, images: vd.images, bytes: vd.bytes, rssKiB: { verify: rss(v) }, anonKiB: { verify: anon(v) }, note: vd.ok === true ? 'ok' : `${vd.problems.length} problems` })
  return { n, px, root, steps }
}

/** Runs one scale configuration, writes its JSON and rewrites bench/SCALE.md from all of them. */
export async function scaleMain (ctx: Ctx, n: number, px: number, stores: ScaleStore[] = ['lmdb']): Promise<string> {
  const command = `npm run bench -- --scale ${n} --px ${px}${stores.length === 2 ? ' --store both' : stores[0] === 'fs' ? ' --store fs' : ''}`
  const dir = join(ROOT, 'bench', 'results')
  await mkdir(dir, { recursive: true })
  for (const store of stores) {
    const t0 = performance.now()
    const atStart = machine()
    // the steps measured are kept (and written) even when a later step fails
    const steps: ScaleStep[] = []
    let result: { n: number, px: number, root?: string, steps: ScaleStep[], failed?: string } = { n, px, steps }
    ctx.log(`scale: blockstore ${store}`)
    try {
      result = await runScale(ctx, n, px, steps, store)
    } catch (err: any) {
      result.failed = String(err?.message ?? err).slice(0, 2000)
      ctx.log(`scale run failed: ${result.failed}`)
    }
    const doc = { machine: atStart, command, blockstore: store, started: new Date().toISOString(), seconds: (performance.now() - t0) / 1000, ...result }
    await writeFile(join(dir, `scale-${n}-${px}${store === 'fs' ? '-fs' : ''}.json`), JSON.stringify(doc, null, 2) + '\n')
  }
  return await writeScaleMarkdown()
}

/** bench/SCALE.md from every bench/results/scale-N-PX.json. */
export async function writeScaleMarkdown (): Promise<string> {
  const dir = join(ROOT, 'bench', 'results')
  const runs = []
  for (const f of (await readdir(dir)).filter(f => /^scale-\d+-\d+(-fs)?\.json$/.test(f)).sort()) runs.push(JSON.parse(await readFile(join(dir, f), 'utf8')))
  // the issue's goals against these runs: hand-written (bench/scale-goals.md), kept beside the tables
  const goals = await readFile(join(ROOT, 'bench', 'scale-goals.md'), 'utf8').catch(() => '')
  const md = renderScale(runs) + (goals !== '' ? '\n' + goals : '')
  await writeFile(join(ROOT, 'bench', 'SCALE.md'), md)
  return md
}

function renderScale (runs: any[]): string {
  const lines = ['# Archive scale', '', 'Made by `npm run bench -- --scale N --px PX` (bench/scale.ts); one section per run, from bench/results/scale-*.json.',
    'Images/s and MB/s are per step (MB: the blocks the step fetched or published); RSS is the peak (VmHWM) of each process of the step; anon is the peak of its anonymous part (RssAnon sampled every 200 ms: VmHWM also counts the pages of a memory-mapped file the process touched, such as an LMDB repo\'s database, which are the kernel\'s page cache, shared and reclaimable). Repo MB are the block files\' bytes, disk MB what they occupy on disk (runs before the anon and disk columns show –).', '']
  // runs made before the blockstore was recorded used a file per block
  const storeOf = (r: any): string => r.blockstore ?? 'fs'
  for (const r of runs.sort((a, b) => a.px - b.px || a.n - b.n || storeOf(b).localeCompare(storeOf(a)))) {
    lines.push(`## ${r.n.toLocaleString('en')} images of ${r.px}x${r.px}, blockstore ${storeOf(r) === 'lmdb' ? 'LMDB' : 'fs (a file per block)'}`, '', `\`${r.command}\`, ${r.started}, ${(r.seconds / 60).toFixed(1)} min, ${r.machine?.cpus ?? '?'} cores, Node ${r.machine?.node ?? '?'}${r.machine?.loadAverage != null ? `, load average ${r.machine.loadAverage.join(' / ')} (1/5/15 min) ${r.machine.loadNote ?? 'at the start'}: other work on the machine slows every step` : ''}`, '',
      '| step | wall s | images/s | MB/s | peak RSS MiB | peak anon MiB | repo files | repo MB | disk MB | note |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---|')
    for (const s of r.steps) {
      const sec = s.wallMs / 1000
      const cell = (x: number, d = 1): string => Number.isFinite(x) ? x.toFixed(d) : '–'
      const rssCell = Object.entries(s.rssKiB as Record<string, number>).map(([k, v]) => `${k} ${cell(v / 1024, 0)}`).join(', ')
      const anonCell = s.anonKiB != null ? Object.values(s.anonKiB as Record<string, number>).map(v => cell(v / 1024, 0)).join(', ') : '–'
      lines.push(`| ${s.step} | ${cell(sec)} | ${cell(s.images / sec, 0)} | ${s.bytes != null ? cell(s.bytes / 1e6 / sec) : '–'} | ${rssCell} | ${anonCell} | ${s.repo?.files ?? '–'} | ${s.repo != null ? cell(s.repo.bytes / 1e6) : '–'} | ${s.repo?.disk != null ? cell(s.repo.disk / 1e6) : '–'} | ${s.note ?? ''} |`)
    }
    if (r.failed != null) lines.push('', `**This run stopped at a failed step**: ${r.failed}`)
    lines.push('')
    // the same archive with the other store, from the same command: each step's ratio
    const fs = runs.find(o => o !== r && o.n === r.n && o.px === r.px && storeOf(o) === 'fs' && o.command === r.command)
    if (storeOf(r) === 'lmdb' && fs != null && r.command.includes('--store both')) {
      lines.push(`LMDB against fs in the same command (fs run right after): ratios per step (images/s > 1 = LMDB faster; memory and disk > 1 = LMDB larger).`, '',
        '| step | images/s LMDB / fs | peak RSS LMDB / fs | peak anon LMDB / fs | repo files LMDB / fs | disk LMDB / fs |', '|---|---:|---:|---:|---:|---:|')
      for (const s of r.steps) {
        const o = fs.steps.find((x: any) => x.step === s.step)
        if (o == null) continue
        const rssOf = (x: any): number => Math.max(...Object.values(x.rssKiB as Record<string, number>))
        const anonOf = (x: any): number => x.anonKiB != null ? Math.max(...Object.values(x.anonKiB as Record<string, number>)) : NaN
        const ratio = (a: number, b: number): string => Number.isFinite(a / b) ? (a / b).toFixed(2) : '–'
        lines.push(`| ${s.step} | ${(o.wallMs / s.wallMs).toFixed(2)} | ${ratio(rssOf(s), rssOf(o))} | ${ratio(anonOf(s), anonOf(o))} | ${s.repo != null && o.repo != null ? `${s.repo.files} / ${o.repo.files}` : '–'} | ${s.repo?.disk != null && o.repo?.disk != null ? ratio(s.repo.disk, o.repo.disk) : '–'} |`)
      }
      lines.push('')
    }
  }
  return lines.join('\n')
}
