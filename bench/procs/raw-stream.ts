/**
 * The stack's ceiling: a raw libp2p stream between two mist-p2p nodes (createMistNode: same
 * TCP + pnet + noise + yamux configuration as the product), no bitswap.
 *   node raw-stream.js serve --repo DIR --key FILE --listen MA      prints {"multiaddrs":[...]}
 *   node raw-stream.js get --repo DIR --key FILE --peer MA --mib N --reps R   prints {"runs":[{ms,bytes}]}
 */
import 'promise.withresolvers/auto'
import { mkdir, readFile } from 'node:fs/promises'
import { createMistNode, loadOrCreateIdentity } from '../../src/node/index.js'
import { Repo } from '../../src/repo/index.js'

const PROTOCOL = '/mist-bench/raw/1.0.0'
const args = process.argv.slice(2)
const mode = args[0]
const opt = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined }
const repoPath = opt('repo') as string
await mkdir(repoPath, { recursive: true })
const repo = await Repo.open({ path: repoPath, create: true, command: 'bench' })
const node = await createMistNode({
  blockstore: repo.blockstore,
  datastore: repo.datastore,
  privateKey: await loadOrCreateIdentity(repoPath),
  swarmKey: await readFile(opt('key') as string),
  listen: mode === 'serve' ? [opt('listen') as string] : []
})
const libp2p = node.helia.libp2p
const chunk = new Uint8Array(256 * 1024).fill(7)

if (mode === 'serve') {
  await libp2p.handle(PROTOCOL, async (stream: any) => {
    // request: the number of MiB as 4 bytes
    let want = 0
    for await (const c of stream) { const b = c.subarray ? c.subarray() : c; want = new DataView(b.buffer, b.byteOffset).getUint32(0); break }
    let left = want * 1024 * 1024
    while (left > 0) {
      const part = left >= chunk.byteLength ? chunk : chunk.subarray(0, left)
      left -= part.byteLength
      if (!stream.send(part)) await stream.onDrain()
    }
    await stream.close()
  }, { maxInboundStreams: 8 })
  process.stdout.write(JSON.stringify({ multiaddrs: node.multiaddrs() }) + '\n')
  await new Promise<void>(resolve => { process.once('SIGTERM', resolve); process.once('SIGINT', resolve) })
} else {
  const peer = opt('peer') as string
  const mib = Number(opt('mib') ?? 64)
  const reps = Number(opt('reps') ?? 3)
  const { multiaddr } = await import('@multiformats/multiaddr')
  await node.dial(peer)
  const runs: Array<{ ms: number, bytes: number }> = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    const stream: any = await libp2p.dialProtocol(multiaddr(peer), PROTOCOL)
    const req = new Uint8Array(4)
    new DataView(req.buffer).setUint32(0, mib)
    stream.send(req)
    let bytes = 0
    for await (const c of stream) bytes += c.byteLength
    await stream.close().catch(() => {})
    runs.push({ ms: performance.now() - t0, bytes })
  }
  process.stdout.write(JSON.stringify({ runs }) + '\n')
}
await node.stop()
await repo.close()
