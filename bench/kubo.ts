/**
 * 7. A pull from a Kubo seeder beside a pull from a mist-p2p seeder, in the same run, over
 * 127.0.0.1: the pull dataset exported as one CAR and `ipfs dag import`ed into a Kubo daemon
 * (the Go reference implementation, MIST_KUBO) with the consortium's swarm key; `mist-p2p get`
 * with `--peer <kubo>` (bitswap, as Kubo does not speak /mist/blocks) against `--peer <mist-p2p
 * seeder>` (block protocol) and the same seeder with the getter on bitswap alone.
 */
import { cp, rm, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Dataset } from './data.js'
import { KuboNode } from './kubo-node.js'
import { BIN, Daemon, median, mist, type Ctx } from './lib.js'
import { selections } from './pulls.js'

export async function runKubo (ctx: Ctx, ds: Dataset): Promise<any> {
  const bin = process.env.MIST_KUBO
  if (bin == null || bin === '') return { skipped: 'MIST_KUBO is not set (.ci/run builds Kubo with scripts/build-ipfs-tools.sh)' }
  const car = join(ctx.dir, 'kubo-dataset.car')
  await mist(['export', ds.root, '-o', car, '--repo', ds.seederRepo, '--json'])
  const kubo = await KuboNode.init(bin, join(ctx.dir, 'kubo'), join(ds.seederRepo, 'swarm.key'))
  const seeder = new Daemon(BIN, ['serve', '--repo', ds.seederRepo, '--listen', '/ip4/127.0.0.1/tcp/0', '--json'], { meterDir: ctx.dir })
  // an interrupted run exits without this function's finally: end the daemon with it
  const killKubo = (): void => { kubo.proc?.kill('SIGKILL') }
  process.once('exit', killKubo)
  try {
    await kubo.start()
    const version = (await kubo.ok(['version'])).trim()
    const t0 = performance.now()
    await kubo.ok(['dag', 'import', car], { timeoutMs: 600_000 })
    const importMs = performance.now() - t0
    const mistAddr = (await seeder.ready).multiaddrs[0] as string
    ctx.log(`  ${version}: dag import of the dataset CAR ${(importMs / 1000).toFixed(1)} s; mist-p2p seeder ${mistAddr}`)
    const seeders: Array<{ seeder: string, protocol: string, peer: string, env: Record<string, string> }> = [
      { seeder: 'mist-p2p', protocol: 'blocks', peer: mistAddr, env: {} },
      { seeder: 'mist-p2p', protocol: 'bitswap', peer: mistAddr, env: { MIST_P2P_BITSWAP_ONLY: '1' } },
      { seeder: 'kubo', protocol: 'bitswap', peer: kubo.multiaddr, env: {} }
    ]
    const reps = Math.min(ctx.reps, 2)
    const pulls: any[] = []
    for (const sel of selections(ctx.quick)) {
      for (const s of seeders) {
        const runs: any[] = []
        // bitswap alone from the mist-p2p seeder is the stack's own baseline (section 4 has it too): one run
        for (let rep = 0; rep < (s.seeder === 'mist-p2p' && s.protocol === 'bitswap' ? 1 : reps); rep++) {
          const g = join(ctx.dir, `kubo-getter-${rep}`)
          const out = join(ctx.dir, `kubo-out-${rep}`)
          await cp(ds.getterTemplate, g, { recursive: true })
          const res = await mist(['get', ds.root, ...sel.args, '-o', out, '--repo', g, '--peer', s.peer, '--json'], { meterDir: ctx.dir, env: s.env })
          const doc = JSON.parse(res.stdout)
          runs.push({ netMs: res.netMs, wallMs: res.wallMs, wire: res.meter?.tcpBytesRead, codestreamBytes: doc.outputs.reduce((n: number, o: any) => n + o.bytes, 0), blocks: doc.fetched?.blocks, bitswapBlocks: doc.fetched?.bitswapBlocks })
          await rm(g, { recursive: true, force: true })
          await rm(out, { recursive: true, force: true })
        }
        const netMs = median(runs.map(r => r.netMs))
        const wire = median(runs.map(r => r.wire))
        const row = { selection: sel.label, seeder: s.seeder, protocol: s.protocol, runs, netMs, wire, codestreamBytes: runs[0].codestreamBytes, overhead: wire / runs[0].codestreamBytes, MBps: wire / 1e6 / (netMs / 1000) }
        pulls.push(row)
        ctx.log(`  get ${sel.label} from ${s.seeder} over ${s.protocol}: ${(netMs / 1000).toFixed(2)} s, ${row.MBps.toFixed(1)} MB/s, wire/codestream ${row.overhead.toFixed(3)}`)
      }
      const base = pulls.find(p => p.selection === sel.label && p.seeder === 'mist-p2p' && p.protocol === 'blocks')
      for (const p of pulls.filter(x => x.selection === sel.label)) p.vsMistSeeder = p.netMs / base.netMs
    }
    return { kubo: version, link: '127.0.0.1 (loopback)', importMs, carBytes: (await stat(car)).size, pulls }
  } finally {
    await seeder.stop().catch(() => {})
    await kubo.stop().catch(() => {})
    process.removeListener('exit', killKubo)
  }
}
