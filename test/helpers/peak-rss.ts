import { spawn } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { BIN } from './cli.js'

const METER = fileURLToPath(new URL('../../dist/bench/hooks/meter.js', import.meta.url))

export interface MeasuredRun {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** Peak RSS of the process (VmHWM, worker threads included), bytes: at exit, or the last one seen if it was killed. */
  peakRss: number
  /** Set when the watchdog killed it for going over `killAbove`. */
  killedAtRss?: number
}

async function status (pid: number): Promise<{ rss: number, hwm: number } | undefined> {
  try {
    const s = await readFile(`/proc/${pid}/status`, 'utf8')
    return { rss: Number(/VmRSS:\s+(\d+)/.exec(s)?.[1] ?? 0) * 1024, hwm: Number(/VmHWM:\s+(\d+)/.exec(s)?.[1] ?? 0) * 1024 }
  } catch {
    return undefined
  }
}

/**
 * Runs the real CLI in a child and measures its peak RSS (VmHWM: Buffers and worker threads
 * count, unlike a heap limit). A watchdog kills it once its RSS passes `killAbove`, so a
 * regression fails the test instead of exhausting a shared machine.
 */
export async function runMeasured (args: string[], options: { dir: string, killAbove: number, env?: Record<string, string>, timeoutMs?: number }): Promise<MeasuredRun> {
  const meterFile = join(options.dir, `meter-${Math.random().toString(36).slice(2)}.json`)
  const child = spawn(process.execPath, ['--import', METER, BIN, ...args], { env: { ...process.env, ...options.env, MIST_BENCH_METER: meterFile }, stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', d => { stdout += d })
  child.stderr.on('data', d => { stderr += d })
  let seen = 0
  let killedAtRss: number | undefined
  const timer = setInterval(() => {
    void status(child.pid as number).then(s => {
      if (s == null) return
      seen = Math.max(seen, s.hwm)
      if (s.rss > options.killAbove && killedAtRss == null) { killedAtRss = s.rss; child.kill('SIGKILL') }
    })
  }, 25)
  const deadline = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 120_000)
  const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>(resolve => child.on('close', (c, s) => { resolve([c, s]) }))
  clearInterval(timer)
  clearTimeout(deadline)
  let peakRss = seen
  try {
    peakRss = Math.max(seen, JSON.parse(await readFile(meterFile, 'utf8')).maxRssKiB * 1024)
  } catch {}
  return { code, signal, stdout, stderr, peakRss, ...(killedAtRss != null ? { killedAtRss } : {}) }
}
