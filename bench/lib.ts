/** Shared helpers of the benchmark: statistics, child processes, tools, pixels. */
import 'promise.withresolvers/auto'
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises'
import { cpus, tmpdir, totalmem, loadavg } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..')
export const BIN = join(ROOT, 'bin', 'mist-p2p.js')
export const METER = join(ROOT, 'dist', 'bench', 'hooks', 'meter.js')
export const PROCS = join(ROOT, 'dist', 'bench', 'procs')
export const FIXTURES = process.env.MIST_REAL_FIXTURES ?? '/work/shared/fixtures/real'

export interface Ctx {
  quick: boolean
  reps: number
  /** Scratch directory of this run (removed at the end). */
  dir: string
  /** Cache of generated inputs kept between runs (deterministic content). */
  cache: string
  log: (line: string) => void
}

export function median (xs: number[]): number {
  if (xs.length === 0) return NaN
  const s = [...xs].sort((a, b) => a - b)
  const m = Math.floor(s.length / 2)
  return s.length % 2 === 1 ? s[m] : (s[m - 1] + s[m]) / 2
}

export function sum (xs: number[]): number { return xs.reduce((a, b) => a + b, 0) }

/** Median wall time of fn in ms over `reps` runs after one warm-up. */
export async function timeMs (reps: number, fn: () => Promise<unknown> | unknown): Promise<number> {
  await fn()
  const times: number[] = []
  for (let i = 0; i < reps; i++) {
    const t0 = performance.now()
    await fn()
    times.push(performance.now() - t0)
  }
  return median(times)
}

export async function tempDir (base: string, prefix: string): Promise<string> {
  await mkdir(base, { recursive: true })
  return mkdtemp(join(base, prefix))
}

export async function newRunDir (): Promise<string> { return mkdtemp(join(tmpdir(), 'mist-bench-')) }

export async function cleanup (dir: string): Promise<void> { await rm(dir, { recursive: true, force: true }) }

// ---- child processes: every one started is tracked so an interrupt can end them
const children = new Set<ChildProcess>()
export function killAll (): void {
  for (const c of children) { if (c.exitCode == null && c.signalCode == null) { try { c.kill('SIGKILL') } catch {} } }
}

export interface Metered {
  code: number | null
  stdout: string
  stderr: string
  wallMs: number
  meter?: { tcpBytesRead: number, tcpBytesWritten: number, sockets: number, firstConnectMs?: number, exitMs: number, maxRssKiB: number, maxRssAnonKiB?: number, maxRssFileKiB?: number, liveHeapKiB?: number, liveExternalKiB?: number }
  /** exit − first TCP connect, ms (the network phase: dial, transfer, decode, write). */
  netMs?: number
}

let meterSeq = 0
/** Runs `node [--import meter] script args` (optionally inside a network namespace) to completion. */
export async function runNode (script: string, args: string[], opts: { netns?: string, meterDir?: string, timeoutMs?: number, env?: Record<string, string> } = {}): Promise<Metered> {
  const meterFile = opts.meterDir != null ? join(opts.meterDir, `meter-${process.pid}-${++meterSeq}.json`) : undefined
  const { cmd, argv } = nodeCommand(script, args, opts.netns)
  const t0 = performance.now()
  const child = spawn(cmd, argv, { env: { ...process.env, ...opts.env, ...(meterFile != null ? { MIST_BENCH_METER: meterFile } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] })
  children.add(child)
  let stdout = ''
  let stderr = ''
  child.stdout!.setEncoding('utf8').on('data', d => { stdout += d })
  child.stderr!.setEncoding('utf8').on('data', d => { stderr += d })
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 600_000)
  const code = await new Promise<number | null>(resolve => child.on('close', c => { resolve(c) }))
  clearTimeout(timer)
  children.delete(child)
  const wallMs = performance.now() - t0
  let meter: Metered['meter']
  if (meterFile != null && existsSync(meterFile)) meter = JSON.parse(await readFile(meterFile, 'utf8'))
  const netMs = meter?.firstConnectMs != null ? meter.exitMs - meter.firstConnectMs : undefined
  return { code, stdout, stderr, wallMs, meter, netMs }
}

function nodeCommand (script: string, args: string[], netns?: string): { cmd: string, argv: string[] } {
  const nodeArgs = ['--import', METER, script, ...args]
  if (netns == null) return { cmd: process.execPath, argv: nodeArgs }
  return { cmd: 'ip', argv: ['netns', 'exec', netns, process.execPath, ...nodeArgs] }
}

/** A long-running child (seeder, HTTP server) that prints one JSON document on stdout when ready. */
export class Daemon {
  readonly proc: ChildProcess
  stdout = ''
  stderr = ''
  readonly ready: Promise<any>
  readonly exited: Promise<number | null>
  readonly meterFile?: string
  constructor (script: string, args: string[], opts: { netns?: string, meterDir?: string } = {}) {
    this.meterFile = opts.meterDir != null ? join(opts.meterDir, `meter-d-${process.pid}-${++meterSeq}.json`) : undefined
    const { cmd, argv } = nodeCommand(script, args, opts.netns)
    this.proc = spawn(cmd, argv, { env: { ...process.env, ...(this.meterFile != null ? { MIST_BENCH_METER: this.meterFile } : {}) }, stdio: ['ignore', 'pipe', 'pipe'] })
    children.add(this.proc)
    this.proc.stderr!.setEncoding('utf8').on('data', d => { this.stderr += d })
    this.exited = new Promise(resolve => this.proc.on('close', c => { children.delete(this.proc); resolve(c) }))
    this.ready = new Promise((resolve, reject) => {
      this.proc.stdout!.setEncoding('utf8').on('data', d => {
        this.stdout += d
        try { resolve(JSON.parse(this.stdout)) } catch {}
      })
      void this.exited.then(c => { reject(new Error(`${script} exited (${c}) before it was ready: ${this.stderr.slice(-2000)}`)) })
    })
  }

  /** SIGTERM, wait, and return the meter record (peak RSS, bytes). */
  async stop (): Promise<Metered['meter']> {
    if (this.proc.exitCode == null) this.proc.kill('SIGTERM')
    const t = setTimeout(() => this.proc.kill('SIGKILL'), 10_000)
    await this.exited
    clearTimeout(t)
    if (this.meterFile != null && existsSync(this.meterFile)) return JSON.parse(readFileSync(this.meterFile, 'utf8'))
    return undefined
  }
}

/** The CLI, to completion; throws unless it exits 0. */
export async function mist (args: string[], opts: { netns?: string, meterDir?: string, allowFail?: boolean, env?: Record<string, string>, timeoutMs?: number } = {}): Promise<Metered> {
  const r = await runNode(BIN, args, opts)
  if (r.code !== 0 && opts.allowFail !== true) throw new Error(`mist-p2p ${args.join(' ')} exited ${r.code}: ${r.stderr.slice(-3000)}`)
  return r
}

export async function sh (cmd: string, args: string[], opts: { input?: Buffer, maxBuffer?: number } = {}): Promise<{ stdout: Buffer, ms: number }> {
  const t0 = performance.now()
  return new Promise((resolve, reject) => {
    const p = execFile(cmd, args, { encoding: 'buffer', maxBuffer: opts.maxBuffer ?? 1 << 30 }, (err, stdout, stderr) => {
      if (err != null) reject(new Error(`${cmd} ${args.join(' ')}: ${err.message} ${String(stderr).slice(-500)}`))
      else resolve({ stdout, ms: performance.now() - t0 })
    })
    if (opts.input != null) p.stdin!.end(opts.input)
  })
}

export function toolVersion (cmd: string, args: string[], re: RegExp): string {
  try {
    const out = execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
    return (out.match(re)?.[0] ?? out.split('\n')[0]).trim()
  } catch (err: any) {
    const out = String(err?.stdout ?? '') + String(err?.stderr ?? '')
    return (out.match(re)?.[0] ?? 'unknown').trim()
  }
}

export function machine (): Record<string, unknown> {
  const pkg = (name: string): string => {
    try { return JSON.parse(readFileSync(join(ROOT, 'node_modules', name, 'package.json'), 'utf8')).version } catch { return '?' }
  }
  let kernel = '?'
  try { kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() } catch {}
  return {
    cpus: cpus().length,
    model: cpus()[0]?.model,
    memoryGiB: Math.round(totalmem() / 2 ** 30),
    /** 1, 5 and 15 min load averages when the run started: other work on the machine skews every figure. */
    loadAverage: loadavg().map(l => +l.toFixed(2)),
    kernel,
    node: process.version,
    mistP2p: JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')).version,
    versions: {
      '@cornerstonejs/codec-openjph': pkg('@cornerstonejs/codec-openjph'),
      helia: pkg('helia'),
      libp2p: pkg('libp2p'),
      '@helia/bitswap': pkg('@helia/bitswap'),
      '@libp2p/yamux': pkg('@libp2p/yamux'),
      '@libp2p/noise': pkg('@libp2p/noise'),
      '@libp2p/pnet': pkg('@libp2p/pnet'),
      opj_compress: toolVersion('opj_compress', ['-h'], /openjp2 library v[\d.]+|v\d+\.\d+\.\d+/),
      gzip: toolVersion('gzip', ['--version'], /gzip [\d.]+/),
      python3: toolVersion('python3', ['--version'], /Python [\d.]+/)
    }
  }
}

// ---- pixels
export type Samples = ArrayLike<number>

/** Area (box) average by an integer factor f; edge boxes average the pixels they cover. */
export function boxDown (data: Samples, w: number, h: number, f: number): { data: Float64Array, width: number, height: number } {
  const W = Math.ceil(w / f)
  const H = Math.ceil(h / f)
  const out = new Float64Array(W * H)
  const cnt = new Float64Array(W * H)
  for (let y = 0; y < h; y++) {
    const row = Math.floor(y / f) * W
    for (let x = 0; x < w; x++) {
      const i = row + Math.floor(x / f)
      out[i] += data[y * w + x]
      cnt[i]++
    }
  }
  for (let i = 0; i < out.length; i++) out[i] /= cnt[i]
  return { data: out, width: W, height: H }
}

/** Phase-aligned reference for the 5/3 LL band: the box of side f centred on original pixel f·n (rather than starting at it). */
export function boxDownAligned (data: Samples, w: number, h: number, f: number): { data: Float64Array, width: number, height: number } {
  const W = Math.ceil(w / f)
  const H = Math.ceil(h / f)
  const out = new Float64Array(W * H)
  const half = f / 2
  for (let Y = 0; Y < H; Y++) {
    const y0 = Math.max(0, Math.ceil(Y * f - half)); const y1 = Math.min(h - 1, Math.ceil(Y * f + half) - 1)
    for (let X = 0; X < W; X++) {
      const x0 = Math.max(0, Math.ceil(X * f - half)); const x1 = Math.min(w - 1, Math.ceil(X * f + half) - 1)
      let s = 0; let n = 0
      for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) { s += data[y * w + x]; n++ }
      out[Y * W + X] = s / n
    }
  }
  return { data: out, width: W, height: H }
}

export function psnr (a: Samples, b: Samples, peak: number): number {
  let se = 0
  for (let i = 0; i < a.length; i++) { const d = a[i] - b[i]; se += d * d }
  const mse = se / a.length
  return mse === 0 ? Infinity : 10 * Math.log10(peak * peak / mse)
}

/** Mean SSIM over 8x8 windows (stride 4), constants from Wang et al. with L = peak. */
export function ssim (a: Samples, b: Samples, w: number, h: number, peak: number): number {
  const c1 = (0.01 * peak) ** 2
  const c2 = (0.03 * peak) ** 2
  const win = Math.min(8, w, h)
  const step = Math.max(1, win >> 1)
  let total = 0
  let n = 0
  for (let y = 0; y + win <= h; y += step) {
    for (let x = 0; x + win <= w; x += step) {
      let sa = 0; let sb = 0; let saa = 0; let sbb = 0; let sab = 0
      for (let j = 0; j < win; j++) {
        for (let i = 0; i < win; i++) {
          const p = a[(y + j) * w + x + i]; const q = b[(y + j) * w + x + i]
          sa += p; sb += q; saa += p * p; sbb += q * q; sab += p * q
        }
      }
      const m = win * win
      const ma = sa / m; const mb = sb / m
      const va = saa / m - ma * ma; const vb = sbb / m - mb * mb; const cov = sab / m - ma * mb
      total += ((2 * ma * mb + c1) * (2 * cov + c2)) / ((ma * ma + mb * mb + c1) * (va + vb + c2))
      n++
    }
  }
  return n === 0 ? 1 : total / n
}

/** Binary PGM (P5, 16-bit big-endian when maxval > 255). Signed data is offset to unsigned. */
export function toPgm (data: Samples, w: number, h: number, bits: number, signed: boolean): Buffer {
  const maxval = 2 ** bits - 1
  const wide = maxval > 255
  const header = Buffer.from(`P5\n${w} ${h}\n${maxval}\n`, 'ascii')
  const body = Buffer.alloc(w * h * (wide ? 2 : 1))
  const off = signed ? 2 ** (bits - 1) : 0
  for (let i = 0; i < w * h; i++) {
    const v = Math.max(0, Math.min(maxval, data[i] + off))
    if (wide) body.writeUInt16BE(v, 2 * i); else body[i] = v
  }
  return Buffer.concat([header, body])
}

/** Deterministic PRNG: the examples' mulberry32. */
export { mulberry32 as prng } from '../src/examples/prng.js'
