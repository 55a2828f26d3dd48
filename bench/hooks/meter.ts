/**
 * Loaded with `node --import` into a benchmark child process (getter, seeder, HTTP client).
 * Counts the bytes that process read and wrote on its outbound and inbound TCP sockets
 * (socket.bytesRead / bytesWritten: TCP payload, i.e. everything above TCP — pnet, noise,
 * yamux, bitswap or HTTP framing included; IP/TCP headers excluded; Unix sockets excluded),
 * and at exit writes them, the time of the first TCP connect and the process's peak RSS
 * (VmHWM of /proc/self/status, worker threads included; and the sampled peaks of its anonymous and
 * file-backed parts) as JSON to $MIST_BENCH_METER.
 * Not getrusage's maxRSS: Linux carries that across fork+exec, so every child reported at least
 * the benchmark runner's own peak (the section 6 figures of the run of 2026-12-02 have this error).
 */
import net from 'node:net'
import { readFileSync, writeFileSync } from 'node:fs'

function peakRssKiB (): number {
  try {
    return Number(/VmHWM:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1])
  } catch {
    return process.resourceUsage().maxRSS
  }
}

/**
 * Peak anonymous and file-backed resident memory, sampled every 200 ms: VmHWM counts the pages of
 * a memory-mapped file the process touched (an LMDB repo's database) as its own, although they are
 * the kernel's page cache, shared and reclaimable; RssAnon is what the process itself allocated.
 */
let maxRssAnonKiB = 0
let maxRssFileKiB = 0
function sampleRss (): void {
  try {
    const status = readFileSync('/proc/self/status', 'utf8')
    maxRssAnonKiB = Math.max(maxRssAnonKiB, Number(/RssAnon:\s+(\d+)/.exec(status)?.[1] ?? 0))
    maxRssFileKiB = Math.max(maxRssFileKiB, Number(/RssFile:\s+(\d+)/.exec(status)?.[1] ?? 0))
  } catch { /* not Linux */ }
}
setInterval(sampleRss, 200).unref()

const sockets = new Set<net.Socket>()
let firstConnectMs: number | undefined
const t0 = performance.timeOrigin

function isIpc (args: any[]): boolean {
  const a = Array.isArray(args[0]) ? args[0][0] : args[0]
  if (a != null && typeof a === 'object') return a.path != null
  return typeof a === 'string' && !/^\d+$/.test(a)
}

const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (this: net.Socket, ...args: any[]) {
  if (!isIpc(args)) {
    sockets.add(this)
    firstConnectMs ??= t0 + performance.now()
  }
  return (connect as any).apply(this, args)
} as any

// inbound TCP connections (servers): count them too
const emit = net.Server.prototype.emit
net.Server.prototype.emit = function (this: net.Server, event: string, ...args: any[]) {
  if (event === 'connection' && args[0] instanceof net.Socket && args[0].remoteAddress != null) sockets.add(args[0])
  return (emit as any).call(this, event, ...args)
} as any

process.on('exit', () => {
  const file = process.env.MIST_BENCH_METER
  if (file == null) return
  let read = 0
  let written = 0
  for (const s of sockets) { read += s.bytesRead; written += s.bytesWritten }
  // with --expose-gc (section 6): the main thread's live JS heap and external memory at exit,
  // after a full collection: what the process still holds when its whole dataset went through it
  const maxRssKiB = peakRssKiB() // read before that collection
  sampleRss()
  let live: { liveHeapKiB: number, liveExternalKiB: number } | undefined
  const gc = (globalThis as any).gc
  if (typeof gc === 'function') {
    gc()
    const m = process.memoryUsage()
    live = { liveHeapKiB: m.heapUsed / 1024, liveExternalKiB: m.external / 1024 }
  }
  try {
    writeFileSync(file, JSON.stringify({ tcpBytesRead: read, tcpBytesWritten: written, sockets: sockets.size, firstConnectMs, exitMs: t0 + performance.now(), maxRssKiB, maxRssAnonKiB, maxRssFileKiB, ...live }))
  } catch { /* best effort */ }
})
