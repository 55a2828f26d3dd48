/**
 * 6. Memory: peak RSS (VmHWM of the process, codec worker threads included; see hooks/meter.ts) and
 * the peak of its anonymous part (VmHWM also counts the repo database's mapped pages) of
 * `mist-p2p publish` and of `mist-p2p get --level full` over the network (seeder on 127.0.0.1),
 * for an int16 NIfTI volume of 256x256 slices at two slice counts, and for datasets of synthetic
 * 256x256 images at three sizes (500, 1000, 2000), so growth with input size is visible; and the main
 * thread's live JS heap at exit after a full collection (what the process still holds at the end).
 */
import { cp, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeSynthetic, writeVolume } from './data.js'
import { BIN, Daemon, mist, type Ctx } from './lib.js'

async function publishAndGet (ctx: Ctx, input: string, tag: string): Promise<any> {
  const seeder = join(ctx.dir, `mem-seeder-${tag}`)
  const getter = join(ctx.dir, `mem-getter-${tag}`)
  await mist(['init', '--repo', seeder, '--json'])
  await mist(['init', '--repo', getter, '--swarm-key', join(seeder, 'swarm.key'), '--json'])
  // --expose-gc: the meter records the live heap at exit after a full collection (peak RSS is read before it)
  const gcEnv = { NODE_OPTIONS: [process.env.NODE_OPTIONS, '--expose-gc'].filter(Boolean).join(' ') }
  const pub = await mist(['publish', input, '--repo', seeder, '--json'], { meterDir: ctx.dir, env: gcEnv })
  const doc = JSON.parse(pub.stdout)
  const images = doc.images.reduce((n: number, i: any) => n + i.images, 0)
  const serve = new Daemon(BIN, ['serve', '--repo', seeder, '--listen', '/ip4/127.0.0.1/tcp/0', '--json'], { meterDir: ctx.dir })
  let get
  let seederMeter
  try {
    const addr = (await serve.ready).multiaddrs[0]
    get = await mist(['get', doc.root, '--level', 'full', '-o', join(ctx.dir, `mem-out-${tag}`), '--repo', getter, '--peer', addr, '--json'], { meterDir: ctx.dir, env: gcEnv })
  } finally {
    seederMeter = await serve.stop()
  }
  await rm(join(ctx.dir, `mem-out-${tag}`), { recursive: true, force: true })
  await rm(seeder, { recursive: true, force: true }); await rm(getter, { recursive: true, force: true })
  return { images, publishRssMiB: pub.meter!.maxRssKiB / 1024, publishMs: pub.wallMs, getRssMiB: get.meter!.maxRssKiB / 1024, getMs: get.wallMs, publishLiveMiB: (pub.meter?.liveHeapKiB ?? NaN) / 1024, getLiveMiB: (get.meter?.liveHeapKiB ?? NaN) / 1024, seederRssMiB: (seederMeter?.maxRssKiB ?? NaN) / 1024, publishAnonMiB: (pub.meter?.maxRssAnonKiB ?? NaN) / 1024, getAnonMiB: (get.meter?.maxRssAnonKiB ?? NaN) / 1024, seederAnonMiB: (seederMeter?.maxRssAnonKiB ?? NaN) / 1024 }
}

export async function runMemory (ctx: Ctx): Promise<any> {
  // sizes past the first seconds of a process (V8 grows its heap to a steady size as a run
  // starts): 250 -> 1000 slices mostly showed that warm-up, not the dataset
  const [vs, vl] = ctx.quick ? [16, 64] : [1000, 3000]
  // datasets of 256x256 images (512x512 made this section alone take 6 minutes)
  // three sizes: two runs of one size differ by tens of MiB, so a third shows where the growth goes
  const datasetSizes = [500, 1000, 2000]
  await mkdir(ctx.cache, { recursive: true })
  const rows: any[] = []
  for (const n of [vs, vl]) {
    const path = join(ctx.cache, `volume-${n}x256x256-int16.nii`)
    await writeVolume(path, n)
    const r = await publishAndGet(ctx, path, `v${n}`)
    rows.push({ input: `NIfTI volume ${n} x 256x256 int16`, kind: 'volume', ...r })
    ctx.log(`  volume ${n}: publish ${r.publishRssMiB.toFixed(0)} MiB (anon ${r.publishAnonMiB.toFixed(0)}), get ${r.getRssMiB.toFixed(0)} MiB (anon ${r.getAnonMiB.toFixed(0)}) (live heap at exit ${r.getLiveMiB.toFixed(0)}), seeder ${r.seederRssMiB.toFixed(0)} MiB`)
  }
  for (const n of ctx.quick ? [] : datasetSizes) {
    const dir = join(ctx.cache, `mem-synth-${n}`)
    await writeSynthetic(dir, n, 256)
    const input = join(ctx.dir, `mem-ds-${n}`)
    await cp(dir, input, { recursive: true, filter: s => !s.endsWith('.complete') })
    const r = await publishAndGet(ctx, input, `d${n}`)
    await rm(input, { recursive: true, force: true })
    rows.push({ input: `dataset of ${n} PNG 256x256 12-bit`, kind: 'dataset', ...r })
    ctx.log(`  dataset ${n}: publish ${r.publishRssMiB.toFixed(0)} MiB (anon ${r.publishAnonMiB.toFixed(0)}), get ${r.getRssMiB.toFixed(0)} MiB (anon ${r.getAnonMiB.toFixed(0)}) (live heap at exit ${r.getLiveMiB.toFixed(0)}), seeder ${r.seederRssMiB.toFixed(0)} MiB`)
  }
  const growth = (kind: string, key: string): number => { const of = rows.filter(r => r.kind === kind); const [a, b] = [of[0], of[of.length - 1]]; if (of.length < 2) return NaN; return (b[key] - a[key]) / (b.images - a.images) * 1024 }
  return {
    rows,
    growthKiBPerImage: {
      volumePublish: growth('volume', 'publishRssMiB'), volumeGet: growth('volume', 'getRssMiB'), volumeSeeder: growth('volume', 'seederRssMiB'),
      datasetPublish: growth('dataset', 'publishRssMiB'), datasetGet: growth('dataset', 'getRssMiB'), datasetSeeder: growth('dataset', 'seederRssMiB'),
      volumeGetLive: growth('volume', 'getLiveMiB'), datasetGetLive: growth('dataset', 'getLiveMiB'),
      volumeGetAnon: growth('volume', 'getAnonMiB'), datasetGetAnon: growth('dataset', 'getAnonMiB'), datasetPublishAnon: growth('dataset', 'publishAnonMiB')
    }
  }
}
