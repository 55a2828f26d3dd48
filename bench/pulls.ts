/**
 * 4. Dataset pulls: `mist-p2p get --size|--level` from one and two `mist-p2p serve` seeders in
 * separate processes, against (a) a raw libp2p stream between the same kind of nodes (the stack's
 * ceiling) and (b) plain HTTP download of the original files + client-side area averaging.
 * On 127.0.0.1, and (full mode) across a shaped veth link between two network namespaces.
 * Also 2. at dataset scale: wire bytes against the codestream bytes of the level.
 */
import { cp, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import type { Dataset } from './data.js'
import { BIN, Daemon, PROCS, median, mist, runNode, type Ctx } from './lib.js'
import { GET_IP, NS_GET, NS_SEED, SEED_IP, netnsDown, netnsUp } from './netns.js'

export interface Selection { label: string, args: string[], size: number }

export function selections (quick: boolean): Selection[] {
  const all: Selection[] = [
    { label: '64 px', args: ['--size', '64'], size: 64 },
    { label: '256 px', args: ['--size', '256'], size: 256 },
    { label: 'full', args: ['--level', 'full'], size: 0 }
  ]
  return quick ? [all[0], all[2]] : all
}

export async function runPulls (ctx: Ctx, ds: Dataset, shaped: boolean): Promise<any> {
  const sels = selections(ctx.quick)
  const net = shaped ? 'shaped' : 'loopback'
  let link = '127.0.0.1 (loopback)'
  if (shaped) link = netnsUp()
  const seedNs = shaped ? NS_SEED : undefined
  const getNs = shaped ? NS_GET : undefined
  const host = shaped ? SEED_IP : '127.0.0.1'
  const daemons: Daemon[] = []
  try {
    // second seeder: own identity, same swarm key, a copy of the blocks
    const seeder2 = join(ctx.dir, `seeder2-${net}`)
    await mist(['init', '--repo', seeder2, '--swarm-key', join(ds.seederRepo, 'swarm.key'), '--json'])
    await rm(join(seeder2, 'blocks'), { recursive: true, force: true })
    await cp(join(ds.seederRepo, 'blocks'), join(seeder2, 'blocks'), { recursive: true })
    const s1 = new Daemon(BIN, ['serve', '--repo', ds.seederRepo, '--listen', `/ip4/${host}/tcp/0`, '--json'], { netns: seedNs, meterDir: ctx.dir })
    const s2 = new Daemon(BIN, ['serve', '--repo', seeder2, '--listen', `/ip4/${host}/tcp/0`, '--json'], { netns: seedNs, meterDir: ctx.dir })
    const http = new Daemon(join(PROCS, 'http-server.js'), ['--dir', ds.dir, '--host', host], { netns: seedNs })
    const raw = new Daemon(join(PROCS, 'raw-stream.js'), ['serve', '--repo', join(ctx.dir, `raw-s-${net}`), '--key', join(ds.seederRepo, 'swarm.key'), '--listen', `/ip4/${host}/tcp/0`], { netns: seedNs })
    daemons.push(s1, s2, http, raw)
    const [a1, a2, h, r] = await Promise.all([s1.ready, s2.ready, http.ready, raw.ready])
    const addr1 = a1.multiaddrs[0] as string
    const addr2 = a2.multiaddrs[0] as string
    ctx.log(`  ${net}: seeders ${addr1} ${addr2}, http ${h.url}`)

    // (a) raw stream ceiling
    const rawMib = ctx.quick ? 32 : (shaped ? 48 : 128)
    const rawRun = await runNode(join(PROCS, 'raw-stream.js'), ['get', '--repo', join(ctx.dir, `raw-g-${net}`), '--key', join(ds.seederRepo, 'swarm.key'), '--peer', r.multiaddrs[0], '--mib', String(rawMib), '--reps', String(ctx.reps)], { netns: getNs, meterDir: ctx.dir })
    if (rawRun.code !== 0) throw new Error(`raw stream client failed: ${rawRun.stderr.slice(-2000)}`)
    const rawRuns = JSON.parse(rawRun.stdout).runs as Array<{ ms: number, bytes: number }>
    const rawMBps = median(rawRuns.map(x => x.bytes / 1e6 / (x.ms / 1000)))
    ctx.log(`  ${net}: raw libp2p stream ${rawMBps.toFixed(1)} MB/s`)

    // mist-p2p pulls
    const pulls: any[] = []
    // each selection: the product (block protocol) from one and two seeders, and bitswap alone
    // (the getter with MIST_P2P_BITSWAP_ONLY=1) from one seeder as the stack's own baseline
    // (bitswap alone on loopback only and once, 2 repetitions per other pull and per HTTP run in full mode: the 15-minute budget)
    const modes = [{ seeders: 1, protocol: 'blocks' }, { seeders: 2, protocol: 'blocks' }, ...(shaped ? [] : [{ seeders: 1, protocol: 'bitswap' }])]
    const reps = Math.min(ctx.reps, 2)
    for (const sel of sels) {
      for (const { seeders, protocol } of modes) {
        const runs: any[] = []
        // bitswap alone (the stack's baseline, not the product): one run, for the 15-minute budget
        for (let rep = 0; rep < (protocol === 'bitswap' ? 1 : reps); rep++) {
          const g = join(ctx.dir, `getter-${net}-${rep}`)
          const out = join(ctx.dir, `out-${net}-${rep}`)
          await cp(ds.getterTemplate, g, { recursive: true })
          const peers = seeders === 2 ? ['--peer', addr1, '--peer', addr2] : ['--peer', addr1]
          const res = await mist(['get', ds.root, ...sel.args, '-o', out, '--repo', g, ...peers, '--json'], { netns: getNs, meterDir: ctx.dir, env: protocol === 'bitswap' ? { MIST_P2P_BITSWAP_ONLY: '1' } : {} })
          const doc = JSON.parse(res.stdout)
          const codestreamBytes = doc.outputs.reduce((n: number, o: any) => n + o.bytes, 0)
          const images = doc.outputs.reduce((n: number, o: any) => n + (o.paths?.length ?? 1), 0)
          runs.push({ wallMs: res.wallMs, netMs: res.netMs, wire: res.meter?.tcpBytesRead, sent: res.meter?.tcpBytesWritten, codestreamBytes, blocks: doc.fetched?.blocks, fetchedBytes: doc.fetched?.freshBytes, images, outputs: doc.outputs.length, rssKiB: res.meter?.maxRssKiB, peers: doc.fetched?.peers })
          await rm(g, { recursive: true, force: true })
          await rm(out, { recursive: true, force: true })
        }
        const netMs = median(runs.map(x => x.netMs))
        const wire = median(runs.map(x => x.wire))
        const row = {
          selection: sel.label, seeders, protocol, runs,
          netMs, wallMs: median(runs.map(x => x.wallMs)), wire, codestreamBytes: runs[0].codestreamBytes, images: runs[0].images,
          overhead: wire / runs[0].codestreamBytes,
          MBps: wire / 1e6 / (netMs / 1000),
          imagesPerS: runs[0].images / (netMs / 1000),
          bytesPerImage: runs[0].codestreamBytes / runs[0].images,
          ofRawCeiling: (wire / 1e6 / (netMs / 1000)) / rawMBps,
          rssKiB: median(runs.map(x => x.rssKiB))
        }
        pulls.push(row)
        ctx.log(`  ${net}: get ${sel.label} from ${seeders} seeder(s) over ${protocol}: ${(netMs / 1000).toFixed(2)} s, ${row.MBps.toFixed(1)} MB/s, ${row.imagesPerS.toFixed(0)} images/s, wire/codestream ${row.overhead.toFixed(3)}`)
      }
    }

    // (b) HTTP: download every original file, decode, area-average to each size
    const list = join(ctx.dir, 'http-files.json')
    await writeFile(list, JSON.stringify(ds.files))
    const httpRuns: any[] = []
    for (let rep = 0; rep < reps; rep++) {
      const res = await runNode(join(PROCS, 'http-get.js'), ['files', '--url', h.url, '--list', list, '--out', join(ctx.dir, `http-out-${net}`), '--sizes', sels.map(s => s.size).join(',')], { netns: getNs, meterDir: ctx.dir })
      if (res.code !== 0) throw new Error(`http getter failed: ${res.stderr.slice(-2000)}`)
      httpRuns.push({ ...JSON.parse(res.stdout), wire: res.meter?.tcpBytesRead, rssKiB: res.meter?.maxRssKiB })
    }
    const httpDownloadMs = median(httpRuns.map(x => x.downloadMs))
    const http2 = sels.map((sel, i) => {
      const ms = median(httpRuns.map(x => x.downloadMs + x.perSize[i].ms))
      return { selection: sel.label, ms, downloadMs: httpDownloadMs, processMs: median(httpRuns.map(x => x.perSize[i].ms)), wire: median(httpRuns.map(x => x.wire)), images: httpRuns[0].perSize[i].images }
    })
    ctx.log(`  ${net}: HTTP download of ${ds.files.length} original files ${(httpDownloadMs / 1000).toFixed(2)} s`)
    for (const row of pulls) {
      const hb = http2.find(x => x.selection === row.selection)!
      row.vsHttpTime = row.netMs / hb.ms
      row.vsHttpBytes = row.wire / hb.wire
    }
    const seederRss = []
    for (const d of daemons) seederRss.push(await d.stop())
    daemons.length = 0
    return { net, link, getterIp: shaped ? GET_IP : '127.0.0.1', raw: { mib: rawMib, MBps: rawMBps, runs: rawRuns }, pulls, http: http2, httpRuns: httpRuns.map(x => ({ downloadMs: x.downloadMs, bytes: x.bytes, wire: x.wire, perSize: x.perSize })), seederRssKiB: seederRss.slice(0, 2).map(m => m?.maxRssKiB) }
  } finally {
    for (const d of daemons) await d.stop().catch(() => {})
    if (shaped) netnsDown()
  }
}
