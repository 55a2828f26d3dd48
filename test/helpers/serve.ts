import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { BIN } from './cli.js'

/** A `mist-p2p serve --json` process: its addresses once it listens, and ways to stop it. */
export class ServeProc {
  readonly proc: ChildProcessWithoutNullStreams
  stdout = ''
  stderr = ''
  readonly exited: Promise<number | null>
  readonly ready: Promise<{ peerId: string, multiaddrs: string[] }>
  private stopping = false

  constructor (args: string[], env: Record<string, string> = {}) {
    this.proc = spawn(process.execPath, [BIN, 'serve', '--json', ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] })
    this.proc.stderr.setEncoding('utf8')
    this.proc.stderr.on('data', (d: string) => { this.stderr += d })
    this.exited = new Promise(resolve => this.proc.on('close', (code, signal) => {
      // a serve that dies on its own is a bug: show why in the test output
      if (!this.stopping) console.error(`[serve] exited unasked (code ${code}, signal ${signal}); stderr:\n${this.stderr}`)
      resolve(code)
    }))
    this.ready = new Promise((resolve, reject) => {
      this.proc.stdout.setEncoding('utf8')
      this.proc.stdout.on('data', (d: string) => {
        this.stdout += d
        try { resolve(JSON.parse(this.stdout)) } catch { /* not complete yet */ }
      })
      void this.exited.then(code => { reject(new Error(`serve exited (${code}) before listening: ${this.stderr}`)) })
    })
  }

  async addr (): Promise<string> {
    return (await this.ready).multiaddrs[0]
  }

  /** SIGTERM and wait: a clean stop. */
  async stop (): Promise<number | null> {
    this.stopping = true
    this.proc.kill('SIGTERM')
    return this.exited
  }

  /** SIGKILL: a crash. */
  async kill (): Promise<void> {
    this.stopping = true
    this.proc.kill('SIGKILL')
    await this.exited
  }
}
