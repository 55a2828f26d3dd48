/**
 * A real Kubo (the Go IPFS reference implementation) on a closed network, for the interop tests
 * and the benchmark: every setting that would reach the public IPFS network is off before the
 * daemon first starts, every listener is on 127.0.0.1 (port 0), and with a swarm key the daemon
 * runs with LIBP2P_FORCE_PNET=1, so it refuses to start without the key.
 */
import { execFile, spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { copyFile, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

export interface IpfsResult { code: number, stdout: Buffer, stderr: string }

/** Runs a program and collects its output (stdin from `input`); never throws on a non-zero exit. */
export async function runTool (bin: string, args: string[], options: { env?: Record<string, string>, input?: string | Uint8Array, timeoutMs?: number } = {}): Promise<IpfsResult> {
  return new Promise(resolve => {
    const child = execFile(bin, args, { env: { ...process.env, ...options.env }, encoding: 'buffer', timeout: options.timeoutMs ?? 120_000, maxBuffer: 256 * 1024 * 1024 }, (err: any, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout, stderr: stderr.toString() })
    })
    if (options.input != null) child.stdin?.end(options.input)
    else child.stdin?.end()
  })
}

/** Config values that keep Kubo off the public network (applied to the config file before the first start). */
function closeNetwork (config: any): void {
  config.Bootstrap = []
  config.Routing = { ...config.Routing, Type: 'none', DelegatedRouters: [] }
  config.Ipns = { ...config.Ipns, DelegatedPublishers: [] }
  config.DNS = { ...config.DNS, Resolvers: {} }
  config.AutoConf = { ...config.AutoConf, Enabled: false }
  config.AutoTLS = { ...config.AutoTLS, Enabled: false }
  config.Discovery = { ...config.Discovery, MDNS: { ...config.Discovery?.MDNS, Enabled: false } }
  config.Peering = { Peers: null }
  config.Swarm = {
    ...config.Swarm,
    DisableNatPortMap: true,
    EnableHolePunching: false,
    RelayClient: { ...config.Swarm?.RelayClient, Enabled: false },
    RelayService: { ...config.Swarm?.RelayService, Enabled: false },
    Transports: {
      ...config.Swarm?.Transports,
      Network: { ...config.Swarm?.Transports?.Network, TCP: true, QUIC: false, WebTransport: false, WebRTCDirect: false, Websocket: false }
    }
  }
  config.Addresses = { ...config.Addresses, Swarm: ['/ip4/127.0.0.1/tcp/0'], Announce: [], AppendAnnounce: [], NoAnnounce: [], API: '/ip4/127.0.0.1/tcp/0', Gateway: '/ip4/127.0.0.1/tcp/0' }
}

/**
 * Every address or URL in a Kubo config that is not on 127.0.0.1: an empty list is the
 * condition for starting a daemon. (AutoConf.URL stays as Kubo writes it, unused with AutoConf off.)
 */
export function foreignAddresses (config: any): string[] {
  const out: string[] = []
  const visit = (v: any, path: string): void => {
    if (typeof v === 'string') {
      const addr = /^\/(ip4|ip6|dns|dns4|dns6|dnsaddr)\//.test(v)
      const url = /^[a-z][a-z0-9+.-]*:\/\//i.test(v)
      if ((addr && !v.startsWith('/ip4/127.0.0.1/')) || (url && path !== 'AutoConf.URL' && !/^https?:\/\/127\.0\.0\.1[:/]/.test(v))) out.push(`${path}=${v}`)
    } else if (Array.isArray(v)) v.forEach((x, i) => visit(x, `${path}[${i}]`))
    else if (v != null && typeof v === 'object') for (const [k, x] of Object.entries(v)) visit(x, path === '' ? k : `${path}.${k}`)
  }
  visit(config, '')
  return out
}

export class KuboNode {
  readonly path: string
  readonly bin: string
  readonly pnet: boolean
  proc?: ChildProcessWithoutNullStreams
  stdout = ''
  stderr = ''
  peerId = ''
  swarmAddr = ''
  gateway = ''
  private exited?: Promise<number | null>

  private constructor (bin: string, path: string, pnet: boolean) {
    this.bin = bin
    this.path = path
    this.pnet = pnet
  }

  /** `ipfs init --profile=test` in `path`, the closed-network settings, and `swarmKey` copied in (none: a node outside any private network). */
  static async init (bin: string, path: string, swarmKey: string | null): Promise<KuboNode> {
    const node = new KuboNode(bin, path, swarmKey != null)
    const init = await node.ipfs(['init', '--profile=test', '--empty-repo'])
    if (init.code !== 0) throw new Error(`ipfs init failed: ${init.stderr}`)
    const configPath = join(path, 'config')
    const config = JSON.parse(await readFile(configPath, 'utf8'))
    closeNetwork(config)
    await writeFile(configPath, JSON.stringify(config, null, 2))
    if (swarmKey != null) await copyFile(swarmKey, join(path, 'swarm.key'))
    // what Kubo itself reads back, defaults included: nothing may point off 127.0.0.1
    const shown = await node.ipfs(['config', 'show'])
    if (shown.code !== 0) throw new Error(`ipfs config show failed: ${shown.stderr}`)
    const foreign = foreignAddresses(JSON.parse(shown.stdout.toString()))
    if (foreign.length > 0) throw new Error(`Kubo config still points off 127.0.0.1: ${foreign.join(', ')}`)
    return node
  }

  env (): Record<string, string> {
    return { IPFS_PATH: this.path, IPFS_TELEMETRY: 'off', ...(this.pnet ? { LIBP2P_FORCE_PNET: '1' } : {}) }
  }

  async ipfs (args: string[], options: { input?: string | Uint8Array, timeoutMs?: number } = {}): Promise<IpfsResult> {
    return runTool(this.bin, args, { ...options, env: this.env() })
  }

  /** `ipfs …` that must succeed: its stdout as text. */
  async ok (args: string[], options: { input?: string | Uint8Array, timeoutMs?: number } = {}): Promise<string> {
    const res = await this.ipfs(args, options)
    if (res.code !== 0) throw new Error(`ipfs ${args.join(' ')} failed (${res.code}): ${res.stderr}`)
    return res.stdout.toString()
  }

  /** Starts the daemon and waits until it is ready; reads its peer id, swarm and gateway addresses. */
  async start (timeoutMs = 60_000): Promise<void> {
    this.stdout = ''
    this.stderr = ''
    const proc = spawn(this.bin, ['daemon', '--enable-gc=false'], { env: { ...process.env, ...this.env() }, stdio: ['pipe', 'pipe', 'pipe'] })
    this.proc = proc
    proc.stdout.setEncoding('utf8')
    proc.stderr.setEncoding('utf8')
    this.exited = new Promise(resolve => proc.on('close', code => resolve(code)))
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`ipfs daemon not ready after ${timeoutMs} ms: ${this.stdout}${this.stderr}`)) }, timeoutMs)
      proc.stdout.on('data', (d: string) => {
        this.stdout += d
        if (this.stdout.includes('Daemon is ready')) { clearTimeout(timer); resolve() }
      })
      proc.stderr.on('data', (d: string) => { this.stderr += d })
      void this.exited?.then(code => { clearTimeout(timer); reject(new Error(`ipfs daemon exited (${code}) before it was ready: ${this.stdout}${this.stderr}`)) })
    })
    const gateway = /Gateway server listening on \/ip4\/127\.0\.0\.1\/tcp\/(\d+)/.exec(this.stdout)
    if (gateway != null) this.gateway = `http://127.0.0.1:${gateway[1]}`
    const id = JSON.parse(await this.ok(['id']))
    this.peerId = id.ID
    const tcp = (id.Addresses as string[]).find(a => a.startsWith('/ip4/127.0.0.1/tcp/'))
    if (tcp == null) throw new Error(`Kubo has no 127.0.0.1 TCP address: ${JSON.stringify(id.Addresses)}`)
    this.swarmAddr = tcp.replace(/\/p2p\/[^/]+$/, '')
  }

  /** The swarm address with /p2p/<peer id>, for `--peer`. */
  get multiaddr (): string {
    return `${this.swarmAddr}/p2p/${this.peerId}`
  }

  /** A clean stop (SIGINT, as Ctrl-C), then SIGKILL after 10 s. */
  async stop (): Promise<void> {
    if (this.proc == null || this.proc.exitCode != null) return
    this.proc.kill('SIGINT')
    const t = setTimeout(() => this.proc?.kill('SIGKILL'), 10_000)
    await this.exited
    clearTimeout(t)
  }

  async kill (): Promise<void> {
    if (this.proc == null || this.proc.exitCode != null) return
    this.proc.kill('SIGKILL')
    await this.exited
  }

  /** Addresses of every peer Kubo knows (peerstore) and is connected to: the test checks they are all on 127.0.0.1. */
  async knownAddresses (): Promise<string[]> {
    const addrs = JSON.parse(await this.ok(['swarm', 'addrs', '--enc=json'])).Addrs ?? {}
    const peers = JSON.parse(await this.ok(['swarm', 'peers', '--enc=json'])).Peers ?? []
    return [...Object.values(addrs).flat() as string[], ...peers.map((p: any) => p.Addr as string)]
  }
}
