// A mist-p2p node in its own process, driven by JSON lines on stdin, answering with JSON lines
// on stdout. Runs the COMPILED code (dist/); build first with `npm run build`.
//
//   node test/helpers/node-child.mjs --repo DIR [--listen MA] [--peer MA]... [--allow PEERID]...
//        [--put N --size BYTES] [--no-pnet] [--dial-timeout MS]
//
// stdin commands: {"cmd":"peers"} {"cmd":"dial","addr":...} {"cmd":"fetch","cids":[...],"timeoutMs":N,"concurrency":N}
//                 {"cmd":"put","count":N,"size":N} {"cmd":"stats"} {"cmd":"stop"}
// stdout events:  {"event":"ready",...} {"event":"result","id":...} {"event":"error","name","message"}
import { existsSync } from 'node:fs'
import { setMaxListeners } from 'node:events'
import { createHash, randomBytes } from 'node:crypto'
import { createInterface } from 'node:readline'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dist = (p) => join(root, 'dist', p)
if (!existsSync(dist('src/node/index.js')) || !existsSync(dist('src/repo/index.js'))) {
  process.stderr.write(`dist/src/node/index.js is missing: run \`npm run build\` first\n`)
  process.exit(3)
}
const t0 = performance.now()
const nodeMod = await import(pathToFileURL(dist('src/node/index.js')).href)
const nodeInternal = await import(pathToFileURL(dist('src/node/node.js')).href)
const { Repo } = await import(pathToFileURL(dist('src/repo/index.js')).href)
const { CID } = await import('multiformats/cid')
const { sha256 } = await import('multiformats/hashes/sha2')
const importMs = performance.now() - t0

const out = (obj) => process.stdout.write(JSON.stringify(obj) + '\n')
const sha = (bytes) => createHash('sha256').update(bytes).digest('hex')

const args = process.argv.slice(2)
const opt = { peers: [], allow: [], listen: [] }
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  const v = () => args[++i]
  if (a === '--repo') opt.repo = v()
  else if (a === '--listen') opt.listen.push(v())
  else if (a === '--peer') opt.peers.push(v())
  else if (a === '--allow') opt.allow.push(v())
  else if (a === '--put') opt.put = Number(v())
  else if (a === '--size') opt.size = Number(v())
  else if (a === '--no-pnet') opt.noPnet = true
  else if (a === '--dial-timeout') opt.dialTimeout = Number(v())
  else if (a === '--bitswap') opt.bitswap = JSON.parse(v())
  else throw new Error(`unknown argument ${a}`)
}

async function makeBlocks (repo, count, size) {
  const blocks = []
  for (let i = 0; i < count; i++) {
    const bytes = randomBytes(size)
    const cid = CID.createV1(0x55, await sha256.digest(bytes))
    blocks.push({ cid, bytes })
  }
  await repo.putBlocks(blocks)
  return blocks.map(b => ({ cid: b.cid.toString(), sha256: sha(b.bytes) }))
}

let repo
let node
try {
  repo = await Repo.open({ path: opt.repo, create: true, command: 'node-child' })
  let put = []
  if (opt.put > 0) put = await makeBlocks(repo, opt.put, opt.size ?? 262144)
  const privateKey = await nodeMod.loadOrCreateIdentity(repo.path)
  const common = {
    blockstore: repo.blockstore,
    datastore: repo.datastore,
    privateKey,
    listen: opt.listen.length > 0 ? opt.listen : undefined,
    peers: opt.peers,
    allowPeers: opt.allow.length > 0 ? opt.allow : undefined,
    dialTimeoutMs: opt.dialTimeout,
    bitswap: opt.bitswap,
    log: (m) => process.stderr.write(`[node] ${m}\n`)
  }
  const t1 = performance.now()
  if (opt.noPnet) {
    node = await nodeInternal.createNodeWithoutPnetForBenchmark(common)
  } else {
    const swarmKey = await nodeMod.loadSwarmKey(repo.path)
    node = await nodeMod.createMistNode({ ...common, swarmKey, swarmKeySource: nodeMod.swarmKeyPath(repo.path) })
  }
  const startMs = performance.now() - t1
  const tStarted = performance.now()
  node.helia.libp2p.addEventListener('peer:connect', (evt) => {
    out({ event: 'peer:connect', peer: evt.detail.toString(), msSinceStart: Math.round(performance.now() - tStarted) })
  })
  node.helia.libp2p.addEventListener('peer:disconnect', (evt) => {
    out({ event: 'peer:disconnect', peer: evt.detail.toString() })
  })
  out({ event: 'ready', peerId: node.peerId, multiaddrs: node.multiaddrs(), put, importMs: Math.round(importMs), startMs: Math.round(startMs) })
} catch (err) {
  out({ event: 'error', name: err?.name, message: err?.message })
  await repo?.close().catch(() => {})
  process.exit(2)
}

async function fetch (cids, timeoutMs, concurrency) {
  const signal = AbortSignal.timeout(timeoutMs)
  setMaxListeners(Infinity, signal)
  const results = new Array(cids.length)
  let next = 0
  let bytes = 0
  const t = performance.now()
  const worker = async () => {
    while (next < cids.length) {
      const i = next++
      const cid = CID.parse(cids[i])
      try {
        const chunks = []
        for await (const c of node.helia.blockstore.get(cid, { signal })) chunks.push(c)
        const buf = chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
        bytes += buf.byteLength
        results[i] = { cid: cids[i], sha256: sha(buf), stored: await repo.blockstore.has(cid) }
      } catch (err) {
        results[i] = { cid: cids[i], error: `${err?.name}: ${err?.message}` }
      }
    }
  }
  await Promise.all(Array.from({ length: Math.max(1, Math.min(concurrency, cids.length)) }, worker))
  const ms = performance.now() - t
  return { results, bytes, ms, mibPerS: bytes / 1048576 / (ms / 1000) }
}

const rl = createInterface({ input: process.stdin })
rl.on('line', async (line) => {
  let msg
  try { msg = JSON.parse(line) } catch { return }
  const reply = (data) => out({ event: 'result', id: msg.id, ...data })
  try {
    switch (msg.cmd) {
      case 'peers': reply({ peers: node.connectedPeers() }); break
      case 'dial': {
        const t = performance.now()
        await node.dial(msg.addr, { signal: AbortSignal.timeout(msg.timeoutMs ?? 15000) })
        reply({ ok: true, ms: performance.now() - t })
        break
      }
      case 'fetch': reply(await fetch(msg.cids, msg.timeoutMs ?? 30000, msg.concurrency ?? 64)); break
      case 'put': reply({ put: await makeBlocks(repo, msg.count, msg.size) }); break
      case 'stats': reply({ maxRssMiB: process.resourceUsage().maxRSS / 1024, rssMiB: process.memoryUsage().rss / 1048576 }); break
      case 'stop': {
        await node.stop()
        await repo.close()
        reply({ ok: true })
        process.exit(0)
      }
    }
  } catch (err) {
    reply({ error: { name: err?.name, message: err?.message } })
  }
})
rl.on('close', async () => {
  await node?.stop().catch(() => {})
  await repo?.close().catch(() => {})
  process.exit(0)
})
