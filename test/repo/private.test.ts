/**
 * Other local users (issue 16, items 7-9), with the real CLI in child processes:
 * - the repo is private (directories 0700, files 0600) whatever the umask, and opening a repo
 *   others can read or write warns;
 * - serve's control socket is never reachable by others, not even at the moment it is created;
 * - a lock and a socket planted in the repo by someone else (or reachable by others) are refused,
 *   so a command never hands its blocks to an impostor daemon.
 * The uid-based cases need root (chown to another uid; connecting as another user) and skip
 * visibly otherwise.
 */
import { spawn } from 'node:child_process'
import { chmod, chown, lstat, mkdir, readdir, readFile, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { BIN, cli } from '../helpers/cli.js'
import { ServeProc } from '../helpers/serve.js'
import { tempDir } from '../helpers/tmp.js'

const PROBE = fileURLToPath(new URL('../helpers/listen-probe.mjs', import.meta.url))
const isRoot = (): boolean => process.getuid?.() === 0
const NOBODY = 65534

let dir: string
let cleanup: () => Promise<void>
let images: string

/** The CLI under a given umask (through sh, as a user's shell would run it). */
async function cliUmask (umask: string, args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  return await new Promise(resolve => {
    const child = spawn('/bin/sh', ['-c', `umask ${umask}; exec "$0" "$@"`, process.execPath, BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', d => { stdout += d })
    child.stderr.on('data', d => { stderr += d })
    child.on('close', code => { resolve({ code, stdout, stderr }) })
  })
}

/** Every entry under `root` (root included) with its permission bits and kind. */
async function modesUnder (root: string): Promise<Array<{ path: string, mode: number, kind: string }>> {
  const out = [{ path: root, mode: (await lstat(root)).mode & 0o777, kind: 'dir' }]
  for (const e of await readdir(root, { recursive: true, withFileTypes: true })) {
    const p = join(e.parentPath, e.name)
    const info = await lstat(p)
    out.push({ path: p, mode: info.mode & 0o777, kind: info.isDirectory() ? 'dir' : info.isSocket() ? 'socket' : info.isFile() ? 'file' : 'other' })
  }
  return out
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-private-'))
  images = join(dir, 'imgs')
  await mkdir(images)
  for (let i = 0; i < 3; i++) await writeFile(join(images, `img${i}.png`), encodePng(synthesizeImage(128, 128, 12, false, 1, i + 1)))
}, 60_000)

afterAll(async () => { await cleanup?.() })

describe('the repo is private to its owner', () => {
  for (const umask of ['022', '000']) {
    it(`umask ${umask}: init, publish and serve leave every directory 0700 and every file 0600`, async () => {
      const repo = join(dir, `repo-umask-${umask}`)
      const init = await cliUmask(umask, ['init', '--repo', repo, '--json'])
      expect(init.code, init.stderr).toBe(0)
      const pub = await cliUmask(umask, ['publish', images, '--repo', repo, '--json'])
      expect(pub.code, pub.stderr).toBe(0)
      // serve writes the peer store and the control socket; a publish through it writes more blocks and a pin
      const serve = new ServeProc(['--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0'], {})
      try {
        await serve.ready
        await writeFile(join(dir, `extra-${umask}.png`), encodePng(synthesizeImage(96, 96, 8, false, 1, 9)))
        const more = await cliUmask(umask, ['publish', join(dir, `extra-${umask}.png`), '--repo', repo, '--json'])
        expect(more.code, more.stderr).toBe(0)
        const modes = await modesUnder(repo)
        expect(modes.filter(m => m.kind === 'socket')).toHaveLength(1)
        const loose = modes.filter(m => m.kind === 'dir' ? m.mode !== 0o700 : m.mode !== 0o600)
        expect(loose.map(m => `${m.path} ${m.mode.toString(8)}`)).toEqual([])
        // the LMDB blockstore's database and lock file are among the files checked
        expect(modes.filter(m => /blocks\/data\.mdb(-lock)?$/.test(m.path))).toHaveLength(2)
        expect(modes.length).toBeGreaterThan(10)
      } finally {
        await serve.stop()
      }
    }, 120_000)
  }

  it('opening a repo others can read or write warns, naming the fix', async () => {
    const repo = join(dir, 'repo-loose')
    expect((await cli(['publish', join(images, 'img0.png'), '--repo', repo])).code).toBe(0)
    expect((await cli(['info', (await cli(['publish', join(images, 'img0.png'), '--repo', repo, '--json'])).stdout.match(/"root": "(\w+)"/)?.[1] as string, '--repo', repo])).stderr).not.toMatch(/warning/)
    await chmod(repo, 0o755)
    const res = await cli(['publish', join(images, 'img1.png'), '--repo', repo, '--json'])
    expect(res.code, res.stderr).toBe(0)
    expect(res.stderr).toContain(`warning: ${repo} is readable by group and others (mode 755)`)
    expect(res.stderr).toContain(`chmod -R go-rwx ${repo}`)
  }, 60_000)
})

describe('serve\'s control socket is never reachable by others', () => {
  it('under umask 000 the socket is born private (mode at bind, before any chmod) inside a 0700 repo', async () => {
    const repo = join(dir, 'repo-socket')
    expect((await cli(['init', '--repo', repo])).code).toBe(0)
    const probe = join(dir, 'probe.jsonl')
    const child = spawn('/bin/sh', ['-c', 'umask 000; exec "$0" "$@"', process.execPath, BIN, 'serve', '--json', '--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0'], {
      env: { ...process.env, NODE_OPTIONS: `--import=${PROBE}`, MIST_LISTEN_PROBE: probe },
      stdio: ['ignore', 'pipe', 'pipe']
    })
    const closed = new Promise<number | null>(resolve => child.on('close', c => { resolve(c) }))
    let stderr = ''
    child.stderr.on('data', d => { stderr += d })
    try {
      await new Promise<void>((resolve, reject) => {
        let out = ''
        child.stdout.on('data', d => { out += d; if (out.includes('multiaddrs')) resolve() })
        void closed.then(() => { reject(new Error(`serve exited: ${stderr}`)) })
      })
      const sock = join(repo, 'api.sock')
      expect((await lstat(sock)).mode & 0o777).toBe(0o600)
      if (isRoot()) {
        expect(await connectAs(NOBODY, sock)).toBe('EACCES') // another local user cannot connect
      } else console.warn('[skip] not root: connecting to the control socket as another user is not tried')
    } finally {
      child.kill('SIGTERM')
    }
    expect(await closed, stderr).toBe(0)
    const records = (await readFile(probe, 'utf8')).trim().split('\n').map(l => JSON.parse(l)).filter(r => r.path.endsWith('api.sock'))
    expect(records.length).toBe(1)
    for (const r of records) {
      expect(r.socketMode & 0o077, `socket mode at bind ${r.socketMode.toString(8)}`).toBe(0)
      expect(r.dirMode).toBe(0o700)
    }
  }, 120_000)
})

/** Tries to connect to a Unix socket as another uid; returns "connected" or the error code. */
async function connectAs (uid: number, socket: string): Promise<string> {
  return await new Promise(resolve => {
    const child = spawn(process.execPath, ['-e', `require('net').connect(${JSON.stringify(socket)}).on('connect', () => { console.log('connected'); process.exit(0) }).on('error', e => { console.log(e.code); process.exit(0) })`], { uid, gid: uid, stdio: ['ignore', 'pipe', 'inherit'] })
    let out = ''
    child.stdout.on('data', d => { out += d })
    child.on('close', () => { resolve(out.trim()) })
  })
}

describe('a lock and a socket someone else planted are not trusted', () => {
  /** A fake daemon: answers the control protocol like serve would and counts the block bytes it is sent. */
  async function impostor (socket: string): Promise<{ server: Server, received: () => number }> {
    let received = 0
    const server = createServer((req, res) => {
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => { chunks.push(c); if (req.method === 'PUT') received += c.length })
      req.on('end', () => {
        const body = req.method === 'PUT' ? { written: true } : req.url?.startsWith('/v1/pin') === true ? { pinned: true } : {}
        if (req.method === 'HEAD') { res.writeHead(404).end(); return }
        const text = JSON.stringify(body)
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) }).end(text)
      })
    })
    await new Promise<void>(resolve => server.listen(socket, resolve))
    return { server, received: () => received }
  }

  const variants: Array<{ name: string, root: boolean, plant: (repo: string, lock: string, sock: string) => Promise<void>, message: RegExp }> = [
    { name: 'a lock owned by another user', root: true, plant: async (_r, lock) => { await chown(lock, NOBODY, NOBODY) }, message: /repo\.lock belongs to uid 65534, not to you/ },
    { name: 'a socket owned by another user', root: true, plant: async (_r, _l, sock) => { await chown(sock, NOBODY, NOBODY) }, message: /api\.sock belongs to uid 65534, not to you/ },
    { name: 'a socket of mode 0666', root: false, plant: async (_r, _l, sock) => { await chmod(sock, 0o666) }, message: /api\.sock is reachable by group and others \(mode 666\)/ },
    { name: 'a lock and socket in a world-writable repo', root: false, plant: async repo => { await chmod(repo, 0o777) }, message: /is writable by group and others \(mode 777\)/ }
  ]
  for (const v of variants) {
    it(`${v.name}: publish refuses (UnsafeRepoError) and the impostor receives nothing`, async (ctx) => {
      if (v.root && !isRoot()) { console.warn(`[skip] not root: "${v.name}" needs chown`); ctx.skip(); return }
      const repo = join(dir, `repo-impostor-${v.name.replace(/\W+/g, '-')}`)
      expect((await cli(['init', '--repo', repo])).code).toBe(0)
      const sleeper = spawn('sleep', ['300'])
      const lock = join(repo, 'repo.lock')
      const sock = join(repo, 'api.sock')
      await writeFile(lock, JSON.stringify({ pid: sleeper.pid, command: 'serve', since: new Date().toISOString() }), { mode: 0o600 })
      const fake = await impostor(sock)
      await chmod(sock, 0o600)
      try {
        await v.plant(repo, lock, sock)
        const res = await cli(['publish', images, '--repo', repo, '--json'])
        expect(fake.received(), 'block bytes sent to the impostor').toBe(0)
        expect(res.code).not.toBe(0)
        expect(res.stderr).toMatch(/UnsafeRepoError/)
        expect(res.stderr).toMatch(v.message)
      } finally {
        sleeper.kill('SIGKILL')
        await new Promise<void>(resolve => fake.server.close(() => { resolve() }))
      }
    }, 60_000)
  }
})
