/**
 * IPFS Cluster peers for the interop tests: `ipfs-cluster-service` over a KuboNode, with the
 * cluster's own secret, every listener on 127.0.0.1, no mDNS, no relay, no IPFS proxy or
 * pinning-service API, and peers joined only by an explicit --bootstrap. The binaries come
 * from MIST_IPFS_CLUSTER_SERVICE / MIST_IPFS_CLUSTER_CTL, read when a test runs.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { readFile, writeFile } from 'node:fs/promises'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { foreignAddresses, runTool, type IpfsResult, type KuboNode } from './kubo.js'

export function clusterBins (): { service: string, ctl: string } | undefined {
  const service = process.env.MIST_IPFS_CLUSTER_SERVICE
  const ctl = process.env.MIST_IPFS_CLUSTER_CTL
  if (service == null || service === '' || ctl == null || ctl === '') {
    console.warn('[skip] MIST_IPFS_CLUSTER_SERVICE / MIST_IPFS_CLUSTER_CTL are not set: the IPFS Cluster test is skipped (.ci/run builds IPFS Cluster and sets them)')
    return undefined
  }
  for (const p of [service, ctl]) if (!existsSync(p)) throw new Error(`${p} does not exist: the IPFS Cluster binaries are missing (scripts/build-ipfs-tools.sh builds them)`)
  return { service, ctl }
}

/** A free TCP port on 127.0.0.1 (cluster peers need a known port to bootstrap to). */
export async function freePort (): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as any).port
      s.close(() => resolve(port))
    })
  })
}

export class ClusterPeer {
  proc?: ChildProcessWithoutNullStreams
  log = ''
  peerId = ''
  private exited?: Promise<number | null>

  private constructor (readonly bins: { service: string, ctl: string }, readonly path: string, readonly listen: string, readonly api: string) {}

  /** `ipfs-cluster-service init` and the closed-network settings; `secret` is the cluster's own (64 hex digits). */
  static async init (bins: { service: string, ctl: string }, path: string, kubo: KuboNode, secret: string): Promise<ClusterPeer> {
    const listen = `/ip4/127.0.0.1/tcp/${await freePort()}`
    const api = `/ip4/127.0.0.1/tcp/${await freePort()}`
    const peer = new ClusterPeer(bins, path, listen, api)
    const init = await runTool(bins.service, ['init', '--consensus', 'crdt', '--datastore', 'pebble', '--force'], { env: { IPFS_CLUSTER_PATH: path } })
    if (init.code !== 0) throw new Error(`ipfs-cluster-service init failed: ${init.stderr}`)
    const configPath = join(path, 'service.json')
    const c = JSON.parse(await readFile(configPath, 'utf8'))
    c.cluster.secret = secret
    c.cluster.listen_multiaddress = [listen]
    c.cluster.enable_relay_hop = false
    c.cluster.mdns_interval = '0s'
    c.cluster.peer_addresses = []
    // only the REST API (ipfs-cluster-ctl); no IPFS proxy, no pinning-service API
    delete c.api.ipfsproxy
    delete c.api.pinsvcapi
    c.api.restapi.http_listen_multiaddress = api
    c.ipfs_connector.ipfshttp.node_multiaddress = (await readFile(join(kubo.path, 'api'), 'utf8')).trim()
    c.observations.metrics.enable_stats = false
    c.observations.tracing.enable_tracing = false
    c.observations.tracing.jaeger_agent_endpoint = '/ip4/127.0.0.1/udp/6831'
    const foreign = foreignAddresses(c)
    if (foreign.length > 0) throw new Error(`cluster config still points off 127.0.0.1: ${foreign.join(', ')}`)
    await writeFile(configPath, JSON.stringify(c, null, 2))
    peer.peerId = JSON.parse(await readFile(join(path, 'identity.json'), 'utf8')).id
    return peer
  }

  get multiaddr (): string {
    return `${this.listen}/p2p/${this.peerId}`
  }

  async start (bootstrap?: string, timeoutMs = 60_000): Promise<void> {
    const proc = spawn(this.bins.service, ['daemon', ...(bootstrap != null ? ['--bootstrap', bootstrap] : [])], { env: { ...process.env, IPFS_CLUSTER_PATH: this.path }, stdio: ['pipe', 'pipe', 'pipe'] })
    this.proc = proc
    this.exited = new Promise(resolve => proc.on('close', code => resolve(code)))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`cluster peer not ready after ${timeoutMs} ms: ${this.log.slice(-3000)}`)) }, timeoutMs)
      const onData = (d: Buffer): void => {
        this.log += d.toString()
        if (this.log.includes('IPFS Cluster is READY')) { clearTimeout(timer); resolve() }
      }
      proc.stdout.on('data', onData)
      proc.stderr.on('data', onData)
      void this.exited?.then(code => { clearTimeout(timer); reject(new Error(`cluster peer exited (${code}): ${this.log.slice(-3000)}`)) })
    })
  }

  async ctl (args: string[]): Promise<IpfsResult> {
    return runTool(this.bins.ctl, ['--host', this.api, ...args], { timeoutMs: 60_000 })
  }

  async stop (): Promise<void> {
    if (this.proc == null || this.proc.exitCode != null) return
    this.proc.kill('SIGINT')
    const t = setTimeout(() => this.proc?.kill('SIGKILL'), 10_000)
    await this.exited
    clearTimeout(t)
  }
}
