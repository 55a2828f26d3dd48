/**
 * LAN discovery (--mdns): two serve processes in a network namespace this test creates (so the
 * multicast never leaves it) find and connect to each other, and blocks move between them; a node
 * with another swarm key is discovered but cannot connect. Without --mdns nothing is discovered.
 */
import { execFileSync, spawn } from 'node:child_process'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { ControlClient } from '../../src/daemon/control-client.js'
import { encodePng } from '../../src/formats/index.js'
import { BIN, cli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

const NS = `mist-mdns-${process.pid}`

function canMakeNamespaces (): boolean {
  if (process.getuid?.() !== 0) return false
  try {
    execFileSync('ip', ['netns', 'add', NS], { stdio: 'ignore' })
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'up'], { stdio: 'ignore' })
    execFileSync('ip', ['-n', NS, 'link', 'set', 'lo', 'multicast', 'on'], { stdio: 'ignore' })
    execFileSync('ip', ['-n', NS, 'route', 'add', '224.0.0.0/4', 'dev', 'lo'], { stdio: 'ignore' })
    return true
  } catch {
    try { execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' }) } catch {}
    return false
  }
}

const available = canMakeNamespaces()
if (!available) console.warn('[skip] mDNS test needs root and `ip netns` (a private namespace keeps the multicast in)')

let dir: string
let cleanup: () => Promise<void>
const procs: Array<ReturnType<typeof spawn>> = []

function serveInNamespace (repo: string, extra: string[]): void {
  const p = spawn('ip', ['netns', 'exec', NS, process.execPath, BIN, 'serve', '--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0', ...extra], { stdio: 'ignore' })
  procs.push(p)
}

async function peersOf (repo: string): Promise<string[]> {
  const client = new ControlClient(repo, join(repo, 'api.sock'))
  try {
    return (await client.id()).peers as string[]
  } catch {
    return []
  } finally {
    await client.close()
  }
}

async function waitFor (pred: () => Promise<boolean>, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (Date.now() < end) {
    if (await pred()) return true
    await new Promise(resolve => setTimeout(resolve, 250))
  }
  return false
}

describe.skipIf(!available)('mDNS on a LAN (inside a private network namespace)', () => {
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir('mist-mdns-'))
  })
  afterAll(async () => {
    for (const p of procs) p.kill('SIGKILL')
    await new Promise(resolve => setTimeout(resolve, 300))
    try { execFileSync('ip', ['netns', 'del', NS], { stdio: 'ignore' }) } catch {}
    await cleanup?.()
  })

  it('members find each other and exchange blocks; a node with another key does not connect', async () => {
    const a = join(dir, 'a')
    const b = join(dir, 'b')
    const stranger = join(dir, 'stranger')
    const quiet = join(dir, 'quiet')
    const peerIds: Record<string, string> = {}
    for (const [repo, key] of [[a, undefined], [b, a], [stranger, undefined], [quiet, a]] as Array<[string, string | undefined]>) {
      const r = await cli(['init', '--repo', repo, '--json', ...(key != null ? ['--swarm-key', join(key, 'swarm.key')] : [])])
      expect(r.code, r.stderr).toBe(0)
      peerIds[repo] = JSON.parse(r.stdout).peerId
    }
    await mkdir(join(dir, 'in'))
    await writeFile(join(dir, 'in', 'x.png'), encodePng(synthesizeImage(200, 120, 12, false, 1, 5)))
    const pub = await cli(['publish', join(dir, 'in', 'x.png'), '--repo', a, '--json'])
    expect(pub.code, pub.stderr).toBe(0)
    const root = JSON.parse(pub.stdout).root as string
    serveInNamespace(a, ['--mdns'])
    serveInNamespace(b, ['--mdns'])
    serveInNamespace(stranger, ['--mdns'])
    serveInNamespace(quiet, []) // same key, no --mdns: nobody finds it, it finds nobody
    expect(await waitFor(async () => (await peersOf(b)).includes(peerIds[a]), 40_000)).toBe(true)
    // b fetches the image through its running node, from a, found over mDNS
    const got = await cli(['get', root, '-o', join(dir, 'out.png'), '--repo', b, '--timeout', '20'])
    expect(got.code, got.stderr).toBe(0)
    const client = new ControlClient(b, join(b, 'api.sock'))
    expect(await client.has(CID.parse(root))).toBe(true)
    await client.close()
    // the stranger (another swarm key) and the quiet node are connected to no one
    await new Promise(resolve => setTimeout(resolve, 3000))
    expect(await peersOf(stranger)).toEqual([])
    expect(await peersOf(quiet)).toEqual([])
    expect(await peersOf(a)).not.toContain(peerIds[stranger])
  })
})
