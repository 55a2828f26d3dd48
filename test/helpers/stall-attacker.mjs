// A member with the swarm key that pins a seeder's memory: `identities` nodes (each its own peer
// identity and connection), each opening `streams` /mist/blocks/1.0.0 streams that request the
// given CIDs (repeated up to 512 per request) and then never read (the stream is paused, so no
// yamux window update is ever sent). Stays until SIGTERM.
//   node test/helpers/stall-attacker.mjs --dir DIR --key swarm.key --target MULTIADDR --cids FILE --identities K --streams S
// Prints {"streams": N, "reset": R} once every stream is open, then every second while running.
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'
import { readFile } from 'node:fs/promises'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dist = (p) => pathToFileURL(join(root, 'dist', p)).href
const nodeMod = await import(dist('src/node/index.js'))
const proto = await import(dist('src/node/block-protocol.js'))
const { Repo } = await import(dist('src/repo/index.js'))
const { lpStream } = await import('@libp2p/utils')
const { multiaddr } = await import('@multiformats/multiaddr')
const { CID } = await import('multiformats/cid')
const { generateKeyPair } = await import('@libp2p/crypto/keys')

const args = process.argv.slice(2)
const opt = {}
for (let i = 0; i < args.length; i += 2) opt[args[i].replace(/^--/, '')] = args[i + 1]
const swarmKey = await readFile(opt.key)
const cids = JSON.parse(await readFile(opt.cids, 'utf8')).map(s => CID.parse(s))
const request = []
while (request.length < proto.MAX_REQUEST_BLOCKS) request.push(cids[request.length % cids.length])
const body = proto.encodeRequest(request)
const target = multiaddr(opt.target)

const nodes = []
const streams = []
let reset = 0
for (let k = 0; k < Number(opt.identities); k++) {
  const repo = await Repo.open({ path: join(opt.dir, `attacker-${k}`), create: true, command: 'attacker' })
  const node = await nodeMod.createMistNode({ blockstore: repo.blockstore, datastore: repo.datastore, privateKey: await generateKeyPair('Ed25519'), swarmKey, listen: [] })
  nodes.push({ node, repo })
  for (let s = 0; s < Number(opt.streams); s++) {
    try {
      const stream = await node.helia.libp2p.dialProtocol(target, proto.BLOCK_PROTOCOL)
      stream.addEventListener('close', () => { reset++ })
      await lpStream(stream).write(body)
      stream.pause() // never read: no window update reaches the seeder
      streams.push(stream)
    } catch {
      reset++
    }
  }
}
const report = () => { process.stdout.write(JSON.stringify({ streams: streams.length, reset }) + '\n') }
report()
const timer = setInterval(report, 1000)
const stop = async () => {
  clearInterval(timer)
  for (const { node, repo } of nodes) { await node.stop().catch(() => {}); await repo.close().catch(() => {}) }
  process.exit(0)
}
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
