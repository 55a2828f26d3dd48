/**
 * src/node: identity, swarm key, and real nodes in separate processes over TCP on 127.0.0.1.
 * The child processes run the compiled code: `npm run build` first.
 */
import { chmod, stat, writeFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  generateSwarmKey, parseSwarmKey, loadSwarmKey, writeSwarmKey, loadOrCreateIdentity, peerIdOf, createMistNode
} from '../../src/node/index.js'
import { tempDir } from '../helpers/tmp.js'
import { NodeProc, allOutput, assertBuilt } from '../helpers/node-proc.js'

const KIB = 1024
let dir: string
let cleanup: () => Promise<void>
const procs: NodeProc[] = []
const keys: string[] = [] // every swarm key used, to check none is ever printed

function newKey (): string {
  const k = generateSwarmKey()
  keys.push(k)
  return k
}
async function repoWithKey (name: string, key?: string): Promise<string> {
  const path = join(dir, name)
  await mkdir(path, { recursive: true })
  if (key != null) await writeSwarmKey(path, key)
  return path
}
function start (args: string[], opts?: ConstructorParameters<typeof NodeProc>[1]): NodeProc {
  const p = new NodeProc(args, opts)
  procs.push(p)
  return p
}
async function stopAll (...ps: NodeProc[]): Promise<void> {
  await Promise.all(ps.map(async p => p.stop()))
}

beforeAll(async () => {
  assertBuilt()
  ;({ dir, cleanup } = await tempDir('mist-node-test-'))
})
afterAll(async () => {
  await Promise.all(procs.map(async p => p.stop().catch(() => {})))
  await cleanup?.()
})

describe('swarm key', () => {
  it('generates Kubo-format keys that parse to what pnet wants', () => {
    const k = newKey()
    expect(k).toMatch(/^\/key\/swarm\/psk\/1\.0\.0\/\n\/base16\/\n[0-9a-f]{64}\n$/)
    expect(new TextDecoder().decode(parseSwarmKey(new TextEncoder().encode(k)))).toBe(k)
    // CRLF, no trailing newline, upper-case hex, base64 all give the same key
    const hex = k.split('\n')[2]
    const variants = [
      k.replace(/\n/g, '\r\n'), k.trimEnd(), k.replace(hex, hex.toUpperCase()),
      `/key/swarm/psk/1.0.0/\n/base64/\n${Buffer.from(hex, 'hex').toString('base64')}\n`
    ]
    for (const v of variants) expect(new TextDecoder().decode(parseSwarmKey(new TextEncoder().encode(v)))).toBe(k)
    const bin = Buffer.concat([Buffer.from('/key/swarm/psk/1.0.0/\n/bin/\n'), Buffer.from(hex, 'hex')])
    expect(new TextDecoder().decode(parseSwarmKey(bin))).toBe(k)
  })

  it('rejects malformed keys with a message naming the file and never the key', () => {
    const k = newKey()
    const hex = k.split('\n')[2]
    const bad = [
      '', 'hello', k.replace('/key/swarm/psk/1.0.0/', '/key/swarm/psk/2.0.0/'), k.replace('/base16/', '/base32/'),
      k.replace(hex, hex.slice(0, 62)), k.replace(hex, hex.slice(0, 63) + 'g'), k + 'extra line\n',
      k.replace(hex, '0'.repeat(64))
    ]
    for (const b of bad) {
      let err: any
      try { parseSwarmKey(new TextEncoder().encode(b), '/some/repo/swarm.key') } catch (e) { err = e }
      expect(err?.name, JSON.stringify(b.slice(0, 30))).toBe('SwarmKeyError')
      expect(err.message).toContain('/some/repo/swarm.key')
      expect(err.message).not.toContain(hex)
      expect(err.message).not.toContain(hex.slice(0, 16))
    }
  })

  it('writes 0600 atomically, loads, refuses a missing or group/world-readable key', async () => {
    const repo = join(dir, 'keyfile')
    await expect(loadSwarmKey(repo)).rejects.toMatchObject({ name: 'SwarmKeyError', message: expect.stringMatching(/mist-p2p init.*key import/s) })
    const k = newKey()
    await writeSwarmKey(repo, k)
    expect((await stat(join(repo, 'swarm.key'))).mode & 0o777).toBe(0o600)
    expect(new TextDecoder().decode(await loadSwarmKey(repo))).toBe(k)
    await chmod(join(repo, 'swarm.key'), 0o644)
    await expect(loadSwarmKey(repo)).rejects.toMatchObject({ name: 'SwarmKeyError', message: expect.stringContaining('chmod 600') })
    const warnings: string[] = []
    expect(new TextDecoder().decode(await loadSwarmKey(repo, { allowInsecurePermissions: true, onWarning: w => warnings.push(w) }))).toBe(k)
    expect(warnings).toHaveLength(1)
    await writeFile(join(repo, 'swarm.key'), 'garbage', { mode: 0o600 })
    await chmod(join(repo, 'swarm.key'), 0o600)
    await expect(loadSwarmKey(repo)).rejects.toMatchObject({ name: 'SwarmKeyError', message: expect.stringContaining(join(repo, 'swarm.key')) })
    await expect(writeSwarmKey(repo, 'not a key')).rejects.toMatchObject({ name: 'SwarmKeyError' })
  })

  it('createMistNode refuses to start without a (valid) swarm key', async () => {
    const { MemoryBlockstore } = await import('blockstore-core')
    const { MemoryDatastore } = await import('datastore-core')
    const privateKey = await loadOrCreateIdentity(join(dir, 'nokey-inproc'))
    const base = { blockstore: new MemoryBlockstore(), datastore: new MemoryDatastore(), privateKey }
    await expect(createMistNode({ ...base, swarmKey: new Uint8Array() })).rejects.toMatchObject({ name: 'SwarmKeyError' })
    await expect(createMistNode({ ...base, swarmKey: undefined as any })).rejects.toMatchObject({ name: 'SwarmKeyError' })
    await expect(createMistNode({ ...base, swarmKey: new TextEncoder().encode('/key/swarm/psk/1.0.0/\n/base16/\nabc\n') })).rejects.toMatchObject({ name: 'SwarmKeyError' })
  })
})

describe('identity', () => {
  it('creates identity.key 0600 once and returns the same key after', async () => {
    const repo = join(dir, 'ident')
    const k1 = await loadOrCreateIdentity(repo)
    expect((await stat(join(repo, 'identity.key'))).mode & 0o777).toBe(0o600)
    const k2 = await loadOrCreateIdentity(repo)
    expect(peerIdOf(k2)).toBe(peerIdOf(k1))
    await writeFile(join(repo, 'identity.key'), 'nope')
    await expect(loadOrCreateIdentity(repo)).rejects.toMatchObject({ name: 'IdentityError' })
  })
})

describe('nodes in separate processes (127.0.0.1)', () => {
  it('1. same swarm key: B fetches A\'s blocks over bitswap, verified and stored', async () => {
    const key = newKey()
    const a = start(['--repo', await repoWithKey('t1a', key), '--put', '3', '--size', String(256 * KIB)], { env: { DEBUG: 'libp2p:pnet*,libp2p:connection-manager*,helia:bitswap*' } })
    const ra = await a.ready()
    expect(ra.event).toBe('ready')
    expect(ra.multiaddrs[0]).toMatch(new RegExp(`^/ip4/127\\.0\\.0\\.1/tcp/\\d+/p2p/${ra.peerId}$`))
    const b = start(['--repo', await repoWithKey('t1b', key), '--peer', ra.multiaddrs[0]], { env: { DEBUG: 'libp2p:pnet*,libp2p:connection-manager*' } })
    await b.ready()
    const got = await b.cmd({ cmd: 'fetch', cids: ra.put.map((p: any) => p.cid), timeoutMs: 20_000 })
    expect(got.results.map((r: any) => r.error ?? r.sha256)).toEqual(ra.put.map((p: any) => p.sha256))
    expect(got.results.every((r: any) => r.stored === true)).toBe(true)
    expect((await b.cmd({ cmd: 'peers' })).peers).toEqual([ra.peerId])
    await stopAll(a, b)
  })

  it('2. different key / no key / pnet vs no pnet: no connection, no block', async () => {
    const keyA = newKey()
    const a = start(['--repo', await repoWithKey('t2a', keyA), '--put', '2', '--size', String(64 * KIB)])
    const ra = await a.ready()
    const cids = ra.put.map((p: any) => p.cid)
    // a repo without swarm.key: the node refuses to start
    const nokey = start(['--repo', await repoWithKey('t2nokey'), '--peer', ra.multiaddrs[0]])
    const rn = await nokey.ready()
    expect(rn).toMatchObject({ event: 'error', name: 'SwarmKeyError' })
    expect(rn.message).toContain('swarm.key')
    expect(await nokey.exited).toBe(2)
    // different key, and a node without pnet at all
    const other = start(['--repo', await repoWithKey('t2b', newKey()), '--peer', ra.multiaddrs[0], '--dial-timeout', '2000'])
    const open = start(['--repo', await repoWithKey('t2c'), '--no-pnet', '--peer', ra.multiaddrs[0], '--dial-timeout', '2000'])
    await Promise.all([other.ready(), open.ready()])
    const [g1, g2, d1] = await Promise.all([
      other.cmd({ cmd: 'fetch', cids, timeoutMs: 4000 }),
      open.cmd({ cmd: 'fetch', cids, timeoutMs: 4000 }),
      other.cmd({ cmd: 'dial', addr: ra.multiaddrs[0], timeoutMs: 4000 })
    ])
    for (const g of [g1, g2]) {
      expect(g.results.every((r: any) => r.error != null && r.sha256 == null)).toBe(true)
    }
    expect(d1.error?.name).toBe('NetworkError')
    expect((await other.cmd({ cmd: 'peers' })).peers).toEqual([])
    expect((await open.cmd({ cmd: 'peers' })).peers).toEqual([])
    expect((await a.cmd({ cmd: 'peers' })).peers).toEqual([])
    expect(a.events.filter(e => e.event === 'peer:connect')).toEqual([])
    await stopAll(a, other, open)
  })

  it('3. allow-list: A serves only peer X; B (same key, other identity) gets nothing', async () => {
    const key = newKey()
    const repoX = await repoWithKey('t3x', key)
    const xId = peerIdOf(await loadOrCreateIdentity(repoX))
    const a = start(['--repo', await repoWithKey('t3a', key), '--put', '2', '--size', String(128 * KIB), '--allow', xId])
    const ra = await a.ready()
    const cids = ra.put.map((p: any) => p.cid)
    const b = start(['--repo', await repoWithKey('t3b', key), '--peer', ra.multiaddrs[0], '--dial-timeout', '2000'])
    const x = start(['--repo', repoX, '--peer', ra.multiaddrs[0]])
    const [rb, rx] = await Promise.all([b.ready(), x.ready()])
    expect(rx.peerId).toBe(xId)
    const [gb, gx] = await Promise.all([
      b.cmd({ cmd: 'fetch', cids, timeoutMs: 5000 }),
      x.cmd({ cmd: 'fetch', cids, timeoutMs: 20_000 })
    ])
    expect(gx.results.map((r: any) => r.error ?? r.sha256)).toEqual(ra.put.map((p: any) => p.sha256))
    expect(gb.results.every((r: any) => r.sha256 == null)).toBe(true)
    const dialB = await b.cmd({ cmd: 'dial', addr: ra.multiaddrs[0], timeoutMs: 5000 })
    expect(dialB.error?.name).toBe('NetworkError')
    expect((await a.cmd({ cmd: 'peers' })).peers).toEqual([xId])
    expect((await b.cmd({ cmd: 'peers' })).peers).toEqual([])
    expect(a.stderr).toContain(`refused peer ${rb.peerId}`)
    // and A itself refuses to dial B
    const dialA = await a.cmd({ cmd: 'dial', addr: rb.multiaddrs[0], timeoutMs: 5000 })
    expect(dialA.error?.name).toBe('NetworkError')
    await stopAll(a, b, x)
  })

  it('4. persistent identity: same PeerId after a restart over the same repo', async () => {
    const repo = await repoWithKey('t4', newKey())
    const first = start(['--repo', repo])
    const r1 = await first.ready()
    await first.stop()
    const second = start(['--repo', repo])
    const r2 = await second.ready()
    expect(r2.peerId).toBe(r1.peerId)
    expect((await stat(join(repo, 'identity.key'))).mode & 0o777).toBe(0o600)
    await second.stop()
  })

  it('5. no unasked connections: idle node makes no attempt; with one peer only that one is dialed', async () => {
    const key = newKey()
    const idle = start(['--repo', await repoWithKey('t5idle', key)], { hook: true })
    expect((await idle.ready()).event).toBe('ready')
    await new Promise(resolve => setTimeout(resolve, 8000))
    const attempts = (s: string): string[] => s.split('\n').filter(l => l.startsWith('NETHOOK ') && l !== 'NETHOOK installed')
    expect(idle.stderr).toContain('NETHOOK installed')
    expect(attempts(idle.stderr)).toEqual([])
    await idle.stop()
    expect(attempts(idle.stderr)).toEqual([])

    const a = start(['--repo', await repoWithKey('t5a', key)])
    const ra = await a.ready()
    const port = /\/tcp\/(\d+)\//.exec(ra.multiaddrs[0])![1]
    const withPeer = start(['--repo', await repoWithKey('t5b', key), '--peer', ra.multiaddrs[0]], { hook: true })
    await withPeer.ready()
    await withPeer.waitFor(e => e.event === 'peer:connect', 10_000, 'connect')
    await new Promise(resolve => setTimeout(resolve, 8000))
    const seen = attempts(withPeer.stderr)
    expect(seen.length).toBeGreaterThanOrEqual(1)
    expect(new Set(seen)).toEqual(new Set([`NETHOOK tcp-connect 127.0.0.1:${port}`]))
    await stopAll(withPeer, a)
  }, 60_000)

  it('6. the swarm key never appears in any output of the child processes', () => {
    expect(keys.length).toBeGreaterThan(3)
    const text = allOutput.join('')
    expect(text.length).toBeGreaterThan(1000)
    for (const k of keys) {
      const hex = k.split('\n')[2]
      const bytes = Buffer.from(hex, 'hex')
      for (const needle of [hex, hex.toUpperCase(), bytes.toString('base64'), bytes.toString('base64url'), hex.slice(8, 40)]) {
        expect(text.includes(needle)).toBe(false)
      }
      expect(text.includes(bytes.toString('latin1'))).toBe(false)
    }
  })
})
