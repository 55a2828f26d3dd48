/**
 * Spawns test/helpers/node-child.mjs (a real mist-p2p node over the compiled dist/) in a separate
 * process and talks to it with JSON lines. Every byte the child writes is kept, so tests can
 * check what it printed (e.g. that the swarm key never appears).
 */
import { spawn } from 'node:child_process'
import type { ChildProcessWithoutNullStreams } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { dirname, join } from 'node:path'

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const CHILD_SCRIPT = join(root, 'test', 'helpers', 'node-child.mjs')
export const NET_HOOK = join(root, 'test', 'helpers', 'node-net-hook.mjs')

export function assertBuilt (): void {
  if (!existsSync(join(root, 'dist', 'src', 'node', 'index.js'))) {
    throw new Error('dist/src/node/index.js is missing: run `npm run build` (the node tests run the compiled code in child processes)')
  }
}

export interface ChildEvent { event: string, [k: string]: any }

/** Every output of every child started in this test file. */
export const allOutput: string[] = []

export class NodeProc {
  readonly events: ChildEvent[] = []
  stdout = ''
  stderr = ''
  exitCode: number | null | undefined = undefined
  private readonly waiters = new Set<() => void>()
  private nextId = 0
  readonly proc: ChildProcessWithoutNullStreams
  readonly exited: Promise<number | null>

  constructor (args: string[], opts: { hook?: boolean, env?: Record<string, string> } = {}) {
    const nodeArgs = opts.hook === true ? ['--import', NET_HOOK] : []
    this.proc = spawn(process.execPath, [...nodeArgs, CHILD_SCRIPT, ...args], {
      cwd: root,
      env: { ...process.env, ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe']
    })
    createInterface({ input: this.proc.stdout }).on('line', line => {
      this.stdout += line + '\n'
      allOutput.push(line)
      try { this.events.push(JSON.parse(line)) } catch { /* not JSON */ }
      this.wake()
    })
    this.proc.stderr.setEncoding('utf8')
    this.proc.stderr.on('data', (d: string) => { this.stderr += d; allOutput.push(d); this.wake() })
    this.exited = new Promise(resolve => {
      this.proc.on('close', code => { this.exitCode = code; this.wake(); resolve(code) })
    })
  }

  private wake (): void { for (const w of [...this.waiters]) w() }

  async waitFor (pred: (e: ChildEvent) => boolean, timeoutMs = 30_000, what = 'event'): Promise<ChildEvent> {
    const deadline = Date.now() + timeoutMs
    for (;;) {
      const found = this.events.find(pred)
      if (found != null) return found
      if (this.exitCode !== undefined) throw new Error(`child exited (${this.exitCode}) before ${what}; stderr:\n${this.stderr.slice(-3000)}`)
      if (Date.now() > deadline) throw new Error(`timeout waiting for ${what}; stderr:\n${this.stderr.slice(-3000)}`)
      await new Promise<void>(resolve => {
        const w = (): void => { clearTimeout(t); this.waiters.delete(w); resolve() }
        const t = setTimeout(w, Math.max(1, deadline - Date.now()))
        this.waiters.add(w)
      })
    }
  }

  /** The ready event (peerId, multiaddrs, put blocks) or the error event when the node refused to start. */
  async ready (timeoutMs = 60_000): Promise<ChildEvent> {
    return this.waitFor(e => e.event === 'ready' || e.event === 'error', timeoutMs, 'ready')
  }

  async cmd (cmd: Record<string, unknown>, timeoutMs = 120_000): Promise<ChildEvent> {
    const id = ++this.nextId
    this.proc.stdin.write(JSON.stringify({ ...cmd, id }) + '\n')
    return this.waitFor(e => e.event === 'result' && e.id === id, timeoutMs, `result of ${String(cmd.cmd)}`)
  }

  async stop (): Promise<void> {
    if (this.exitCode !== undefined) return
    try {
      await this.cmd({ cmd: 'stop' }, 15_000)
    } catch { /* fall through to kill */ }
    const t = setTimeout(() => { this.proc.kill('SIGKILL') }, 5_000)
    await this.exited
    clearTimeout(t)
  }
}
