import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { fileURLToPath } from 'node:url'

const SCRIPT = fileURLToPath(new URL('./evil-node.mjs', import.meta.url))

/** test/helpers/evil-node.mjs in its own process: a peer that serves wrong bytes, stalls, or answers nothing. */
export class EvilProc {
  readonly proc: ChildProcessWithoutNullStreams
  stdout = ''
  stderr = ''
  readonly ready: Promise<{ peerId: string, multiaddrs: string[] }>
  readonly exited: Promise<number | null>
  constructor (repo: string, mode: 'wrong' | 'stall' | 'mute') {
    this.proc = spawn(process.execPath, [SCRIPT, '--repo', repo, '--mode', mode], { stdio: ['pipe', 'pipe', 'pipe'] })
    this.proc.stderr.setEncoding('utf8')
    this.proc.stderr.on('data', (d: string) => { this.stderr += d })
    this.proc.stdout.setEncoding('utf8')
    this.exited = new Promise(resolve => this.proc.on('close', resolve))
    this.ready = new Promise((resolve, reject) => {
      this.proc.stdout.on('data', (d: string) => {
        this.stdout += d
        const first = this.stdout.split('\n')[0]
        try { resolve(JSON.parse(first)) } catch { /* not complete */ }
      })
      void this.exited.then(code => { reject(new Error(`evil node exited (${code}): ${this.stderr}`)) })
    })
  }

  async addr (): Promise<string> { return (await this.ready).multiaddrs[0] }

  /** How many block reads it answered (wrongly) or stalled. */
  async served (): Promise<number> {
    const before = this.stdout.length
    this.proc.kill('SIGUSR2')
    for (let i = 0; i < 100; i++) {
      const lines = this.stdout.slice(before).split('\n').filter(l => l.includes('"served"'))
      if (lines.length > 0) return JSON.parse(lines[0]).served
      await new Promise(resolve => setTimeout(resolve, 20))
    }
    throw new Error('evil node did not report')
  }

  async stop (): Promise<void> {
    this.proc.kill('SIGTERM')
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 5000)
    await this.exited
    clearTimeout(t)
  }
}
