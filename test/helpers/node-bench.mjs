// Benchmark: two mist-p2p nodes in two processes on 127.0.0.1, bulk bitswap transfer.
//   npm run build && node test/helpers/node-bench.mjs [MiB=64] [blockKiB=256] [concurrency=64] [rounds=2]
// Reports dial time, throughput with pnet on and off, and each process's peak RSS.
import { spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, dirname } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const { generateSwarmKey, writeSwarmKey } = await import(pathToFileURL(join(root, 'dist/src/node/index.js')).href)
const [mib = 64, blockKiB = 256, concurrency = 64, rounds = 2] = process.argv.slice(2).map(Number)
const count = Math.round(mib * 1024 / blockKiB)
// BENCH_BITSWAP='{"maxOutgoingMessageSize":2097152}' overrides the node's bitswap settings in both processes
const bitswapArgs = process.env.BENCH_BITSWAP != null ? ['--bitswap', process.env.BENCH_BITSWAP] : []

function child (args) {
  const p = spawn(process.execPath, [join(root, 'test/helpers/node-child.mjs'), ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  const events = []; const waiters = []
  createInterface({ input: p.stdout }).on('line', l => { try { events.push(JSON.parse(l)) } catch {} ; waiters.splice(0).forEach(w => w()) })
  let stderr = ''; p.stderr.on('data', d => { stderr += d })
  const wait = async (pred) => { for (;;) { const e = events.find(pred); if (e) return e; if (p.exitCode != null) throw new Error(stderr); await new Promise(r => waiters.push(r)) } }
  let id = 0
  const cmd = async (c) => { const i = ++id; p.stdin.write(JSON.stringify({ ...c, id: i }) + '\n'); return wait(e => e.event === 'result' && e.id === i) }
  return { p, wait, cmd, ready: () => wait(e => e.event === 'ready' || e.event === 'error') }
}

const dir = await mkdtemp(join(tmpdir(), 'mist-bench-'))
try {
  for (const pnet of [true, false]) {
    for (let round = 0; round < rounds; round++) {
      const key = generateSwarmKey()
      const ra = join(dir, `a-${pnet}-${round}`); const rb = join(dir, `b-${pnet}-${round}`)
      const extra = [...(pnet ? [] : ['--no-pnet']), ...bitswapArgs]
      if (pnet) { await writeSwarmKey(ra, key); await writeSwarmKey(rb, key) }
      const a = child(['--repo', ra, '--put', String(count), '--size', String(blockKiB * 1024), ...extra])
      const readyA = await a.ready()
      const b = child(['--repo', rb, ...extra])
      const readyB = await b.ready()
      const dial = await b.cmd({ cmd: 'dial', addr: readyA.multiaddrs[0] })
      const got = await b.cmd({ cmd: 'fetch', cids: readyA.put.map(x => x.cid), timeoutMs: Number(process.env.BENCH_TIMEOUT_MS ?? 120000), concurrency })
      const ok = got.results.every((r, i) => r.sha256 === readyA.put[i].sha256)
      const [sa, sb] = [await a.cmd({ cmd: 'stats' }), await b.cmd({ cmd: 'stats' })]
      console.log(JSON.stringify({
        pnet, round, blocks: count, blockKiB, concurrency, ok,
        dialMs: Math.round(dial.ms), startMsB: readyB.startMs, importMsB: readyB.importMs,
        MiB: +(got.bytes / 1048576).toFixed(1), seconds: +(got.ms / 1000).toFixed(2), MiBps: +got.mibPerS.toFixed(1),
        peakRssMiB: { server: Math.round(sa.maxRssMiB), client: Math.round(sb.maxRssMiB) }
      }))
      await a.cmd({ cmd: 'stop' }); await b.cmd({ cmd: 'stop' })
    }
  }
} finally {
  await rm(dir, { recursive: true, force: true })
}
