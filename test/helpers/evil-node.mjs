// A hostile or faulty peer: a real mist-p2p node (createMistNode over the compiled dist/) whose
// blockstore lies. Modes:
//   wrong  every block is served with one byte flipped (bytes that do not match the CID)
//   stall  every block is "held" but reading it never finishes (wants are never answered)
//   mute   accepts the connection and every protocol stream (identify, the block protocol,
//          bitswap) but never answers on any of them
//   node dist... test/helpers/evil-node.mjs --repo DIR --mode wrong|stall
// Prints one JSON line {"peerId","multiaddrs","served"} when listening; {"served":N} on SIGUSR2.
import { fileURLToPath, pathToFileURL } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
const dist = (p) => pathToFileURL(join(root, 'dist', p)).href
const nodeMod = await import(dist('src/node/index.js'))
const { Repo } = await import(dist('src/repo/index.js'))

const args = process.argv.slice(2)
const opt = {}
for (let i = 0; i < args.length; i += 2) opt[args[i].replace(/^--/, '')] = args[i + 1]
const repo = await Repo.open({ path: opt.repo, command: 'evil-node' })
let served = 0
const inner = repo.blockstore
const evil = new Proxy(inner, {
  get (target, prop) {
    if (prop === 'get') {
      return (cid, options) => {
        if (opt.mode === 'stall') {
          return (async function * () {
            served++
            await new Promise(resolve => options?.signal?.addEventListener('abort', resolve, { once: true }))
            throw new Error('aborted')
          })()
        }
        const source = target.get(cid, options)
        return (async function * () {
          served++
          const chunks = []
          for await (const c of source) chunks.push(c)
          const bytes = Buffer.concat(chunks)
          bytes[bytes.length >> 1] ^= 0xff
          yield new Uint8Array(bytes)
        })()
      }
    }
    if (prop === 'has' && opt.mode === 'stall') return async () => true
    const v = Reflect.get(target, prop)
    return typeof v === 'function' ? v.bind(target) : v
  }
})
const node = await nodeMod.createMistNode({
  blockstore: evil,
  datastore: repo.datastore,
  privateKey: await nodeMod.loadOrCreateIdentity(repo.path),
  swarmKey: await nodeMod.loadSwarmKey(repo.path),
  swarmKeySource: nodeMod.swarmKeyPath(repo.path),
  listen: ['/ip4/127.0.0.1/tcp/0']
})
if (opt.mode === 'mute') {
  const libp2p = node.helia.libp2p
  const held = []
  const mute = (stream) => { held.push(stream) } // negotiated, then silence
  for (const protocol of libp2p.getProtocols()) {
    await libp2p.unhandle(protocol)
    await libp2p.handle(protocol, mute, { maxInboundStreams: 1024 })
  }
}
process.stdout.write(JSON.stringify({ peerId: node.peerId, multiaddrs: node.multiaddrs(), mode: opt.mode }) + '\n')
process.on('SIGUSR2', () => { process.stdout.write(JSON.stringify({ served }) + '\n') })
const stop = async () => { await node.stop().catch(() => {}); await repo.close().catch(() => {}); process.exit(0) }
process.on('SIGTERM', stop)
process.on('SIGINT', stop)
