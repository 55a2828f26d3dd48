/**
 * CodecPool: encode/decode (and jobs of other modules, such as PNG outputs) on worker threads, each owning its own OpenJPH
 * WASM module. Jobs queue in order and go to the first idle worker. Inputs are
 * copied once into an exact-size buffer that is transferred (or transferred
 * directly with `transfer: true`); results are transferred back.
 *
 * WASM memory never shrinks, so a worker whose heap exceeds maxHeapBytes after
 * a job is terminated and replaced. A worker that crashes is replaced and its
 * job rejected with CodecError. Idle workers are unref'd: they never keep the
 * process alive.
 */
import { readFileSync } from 'node:fs'
import os from 'node:os'
import { Worker } from 'node:worker_threads'
import { CodecError, errorFromWire } from '../errors.js'
import type { RasterImage, AbortOptions } from '../types.js'
import { wasmPath } from './openjph.js'
import type { DecodeOptions, EncodeOptions } from './options.js'
import type { JobRequest, JobResponse, LoadRequest, WorkerInit, WorkerMessage } from './protocol.js'
import { webAssembly, type CompiledWasm } from './wasm-api.js'
import { resolveWorkerUrl } from './worker-url.js'

export interface CodecPoolOptions {
  /** Number of worker threads. Default: os.availableParallelism(). */
  size?: number
  /** A worker whose WASM heap exceeds this after a job is recycled. Default: 256 MiB. */
  maxHeapBytes?: number
  /** Worker script; default: the compiled src/codec/worker.js (see worker-url.ts). */
  workerUrl?: URL
  /**
   * A job still running after this long is abandoned: its worker is terminated and replaced and
   * the job fails with a CodecError (a hostile codestream must not pin a worker). Default 60 s.
   */
  jobTimeoutMs?: number
}

export interface JobControl extends AbortOptions {
  /** Overrides the pool's jobTimeoutMs for this job. */
  timeoutMs?: number
  /** Give the input's ArrayBuffer to the worker instead of copying it (the caller's array is detached). */
  transfer?: boolean
}

export type PoolEncodeOptions = EncodeOptions & JobControl
export type PoolDecodeOptions = DecodeOptions & JobControl

export interface CodecPoolStats {
  /** Live worker threads. */
  workers: number
  /** Jobs a worker finished (result or codec error). */
  jobs: number
  /** Workers terminated and replaced because their heap exceeded maxHeapBytes (or their module aborted). */
  recycles: number
  /** Workers that died unexpectedly. */
  crashes: number
  /** Jobs waiting for a worker. */
  queued: number
  /** Last WASM heap size reported by each live worker, in bytes. */
  heapBytes: number[]
  /** Heap size of the most recently recycled worker when it was recycled, in bytes. */
  lastRecycledHeapBytes: number
}

interface Job {
  request: JobRequest
  transfer: ArrayBuffer[]
  resolve: (value: never) => void
  reject: (err: unknown) => void
  settled: boolean
  cleanup: () => void
  timeoutMs: number
  timer?: NodeJS.Timeout
}

interface Slot {
  worker: Worker
  job?: Job
  heapBytes: number
  gone: boolean
}

const DEFAULT_MAX_HEAP = 256 * 1024 * 1024

let compiledModule: CompiledWasm | undefined

/** OpenJPH compiled once per process and shared with every worker. */
function compiled (): CompiledWasm {
  compiledModule ??= new webAssembly.Module(readFileSync(wasmPath()))
  return compiledModule
}

/**
 * Exact-size copy of a view's bytes, in a buffer of its own (so it can be transferred).
 * Not `view.slice()`: a Node Buffer's slice is a view of the same memory, and transferring it
 * would detach the caller's whole buffer (e.g. the DICOM file a frame was cut from).
 */
export function ownBuffer<T extends ArrayBufferView> (view: T, transfer: boolean | undefined): T {
  if (transfer === true) return view
  const copy = view.buffer.slice(view.byteOffset, view.byteOffset + view.byteLength) as ArrayBuffer
  if (Buffer.isBuffer(view)) return new Uint8Array(copy) as unknown as T
  const Ctor = view.constructor as new (b: ArrayBuffer) => T
  return new Ctor(copy)
}

export class CodecPool {
  readonly size: number
  readonly maxHeapBytes: number
  readonly jobTimeoutMs: number
  private readonly workerUrl: URL
  private readonly slots: Slot[] = []
  private readonly queue: Job[] = []
  private nextId = 1
  private closed = false
  private readonly preloads = new Set<string>()
  private counters = { jobs: 0, recycles: 0, crashes: 0, lastRecycledHeapBytes: 0 }

  constructor (options: CodecPoolOptions = {}) {
    const size = options.size ?? os.availableParallelism()
    if (!Number.isInteger(size) || size < 1) throw new CodecError(`CodecPool size must be a positive integer, got ${size}`)
    const maxHeap = options.maxHeapBytes ?? DEFAULT_MAX_HEAP
    if (!(maxHeap > 0)) throw new CodecError(`CodecPool maxHeapBytes must be positive, got ${maxHeap}`)
    this.size = size
    this.maxHeapBytes = maxHeap
    this.jobTimeoutMs = options.jobTimeoutMs ?? 60_000
    this.workerUrl = options.workerUrl ?? resolveWorkerUrl()
  }

  /** Encode on a worker; same bytes as encodeHTJ2K(). */
  async encode (image: RasterImage, options: PoolEncodeOptions = {}): Promise<Uint8Array> {
    const { signal, transfer, timeoutMs, ...encodeOptions } = options
    if (image == null || !ArrayBuffer.isView(image.data)) throw new CodecError('cannot encode: image.data must be a typed array of samples')
    const data = ownBuffer(image.data, transfer)
    const request: JobRequest = { id: this.nextId++, kind: 'encode', image: { ...image, data }, options: encodeOptions }
    return await this.submit<Uint8Array>(request, [data.buffer as ArrayBuffer], signal, timeoutMs)
  }

  /**
   * Runs `runJob(image)` of the ES module at `module` (a URL of this package) on a worker, for
   * CPU-heavy work beside the codec such as PNG outputs (see formats/png/job.ts).
   */
  async runJob (module: string, image: RasterImage, options: JobControl = {}): Promise<Uint8Array> {
    if (image == null || !ArrayBuffer.isView(image.data)) throw new CodecError('cannot run a job: image.data must be a typed array of samples')
    const data = ownBuffer(image.data, options.transfer)
    const request: JobRequest = { id: this.nextId++, kind: 'job', module, image: { ...image, data } }
    return await this.submit<Uint8Array>(request, [data.buffer as ArrayBuffer], options.signal, options.timeoutMs)
  }

  /**
   * Runs `runTask(input, codec)` of the ES module at `module` (a URL of this package) on a worker:
   * work that uses the codec together with other CPU-heavy steps (e.g. publish's decode, encode
   * and chunk of a PNG), so the main thread only orchestrates. `transfer` lists buffers of `input`
   * given to the worker; errors come back as their own classes (errors.ts errorFromWire).
   */
  async runTask<T> (module: string, input: unknown, options: AbortOptions & { timeoutMs?: number, transfer?: ArrayBuffer[] } = {}): Promise<T> {
    const request: JobRequest = { id: this.nextId++, kind: 'task', module, input }
    return await this.submit<T>(request, options.transfer ?? [], options.signal, options.timeoutMs)
  }

  /**
   * Starts every worker now and has each import `module` (a job or task module's URL, as for
   * runJob/runTask) while its codec instantiates, so the first jobs do not wait for either: a
   * command calls it before its own set-up (collecting inputs), which then overlaps the workers'.
   * Workers started later (replacements) import it too. Idle workers still never hold the process.
   */
  preload (module: string): void {
    if (this.closed) return
    if (!this.preloads.has(module)) {
      this.preloads.add(module)
      const request: LoadRequest = { kind: 'load', module }
      for (const slot of this.slots) slot.worker.postMessage(request)
    }
    while (this.slots.length < this.size) this.spawn()
  }

  /** Decode on a worker; same image as decodeHTJ2K(). */
  async decode (codestream: Uint8Array, options: PoolDecodeOptions = {}): Promise<RasterImage> {
    const { signal, transfer, timeoutMs, ...decodeOptions } = options
    if (!(codestream instanceof Uint8Array)) throw new CodecError('cannot decode: the codestream must be a Uint8Array')
    const bytes = ownBuffer(codestream, transfer)
    const request: JobRequest = { id: this.nextId++, kind: 'decode', codestream: bytes, options: decodeOptions }
    return await this.submit<RasterImage>(request, [bytes.buffer as ArrayBuffer], signal, timeoutMs)
  }

  stats (): CodecPoolStats {
    return {
      workers: this.slots.length,
      jobs: this.counters.jobs,
      recycles: this.counters.recycles,
      crashes: this.counters.crashes,
      queued: this.queue.length,
      heapBytes: this.slots.map((s) => s.heapBytes),
      lastRecycledHeapBytes: this.counters.lastRecycledHeapBytes
    }
  }

  /** Reject every pending job and terminate every worker. */
  async close (): Promise<void> {
    if (this.closed) return
    this.closed = true
    const error = new CodecError('CodecPool closed before the job ran')
    for (const job of this.queue.splice(0)) this.settle(job, undefined, error)
    const slots = this.slots.splice(0)
    for (const slot of slots) {
      slot.gone = true
      if (slot.job != null) this.settle(slot.job, undefined, new CodecError('CodecPool closed while the job was running'))
    }
    await Promise.all(slots.map(async (s) => await s.worker.terminate()))
  }

  private async submit<T> (request: JobRequest, transfer: ArrayBuffer[], signal?: AbortSignal, timeoutMs?: number): Promise<T> {
    if (this.closed) throw new CodecError('CodecPool is closed')
    signal?.throwIfAborted()
    return await new Promise<T>((resolve, reject) => {
      const job: Job = { request, transfer, resolve: resolve as (v: never) => void, reject, settled: false, cleanup: () => {}, timeoutMs: timeoutMs ?? this.jobTimeoutMs }
      if (signal != null) {
        const onAbort = (): void => {
          const queued = this.queue.indexOf(job)
          if (queued >= 0) this.queue.splice(queued, 1)
          // a running job's worker is stopped, not left busy with work nobody wants
          const running = this.slots.find((s) => s.job === job)
          if (running != null) this.abandon(running)
          this.settle(job, undefined, signal.reason)
          this.dispatch()
        }
        signal.addEventListener('abort', onAbort, { once: true })
        job.cleanup = () => { signal.removeEventListener('abort', onAbort) }
      }
      this.queue.push(job)
      this.dispatch()
    })
  }

  private settle (job: Job, value: unknown, error?: unknown): void {
    if (job.settled) return
    job.settled = true
    if (job.timer != null) clearTimeout(job.timer)
    job.cleanup()
    if (error !== undefined) job.reject(error)
    else job.resolve(value as never)
  }

  /** Give queued jobs to idle workers, starting workers up to `size`. */
  private dispatch (): void {
    while (this.queue.length > 0 && !this.closed) {
      let slot = this.slots.find((s) => s.job == null)
      if (slot == null) {
        if (this.slots.length >= this.size) return
        slot = this.spawn()
      }
      const job = this.queue.shift() as Job
      slot.job = job
      slot.worker.ref()
      const running = slot
      job.timer = setTimeout(() => {
        this.abandon(running)
        this.settle(job, undefined, new CodecError(`a ${job.request.kind} job took longer than ${(job.timeoutMs / 1000).toFixed(0)} s and was stopped (the codestream is corrupt or hostile, or the image too large for the time limit)`))
        this.dispatch()
      }, job.timeoutMs)
      job.timer.unref()
      try {
        slot.worker.postMessage(job.request, job.transfer)
      } catch (err) {
        slot.job = undefined
        slot.worker.unref()
        this.settle(job, undefined, new CodecError(`cannot send the job to a codec worker: ${(err as Error).message}`, { cause: err }))
      }
    }
  }

  private spawn (): Slot {
    const init: WorkerInit = { compiled: compiled(), preload: [...this.preloads] }
    // Node flags that make no sense for a worker script (e.g. --input-type of `node -e`) would crash it.
    const execArgv = process.execArgv.filter((a) => !a.startsWith('--input-type'))
    const worker = new Worker(this.workerUrl, { workerData: init, execArgv })
    const slot: Slot = { worker, heapBytes: 0, gone: false }
    worker.on('message', (msg: WorkerMessage) => { this.onMessage(slot, msg) })
    worker.on('error', (err) => { this.onCrash(slot, `it threw ${err.name}: ${err.message}`) })
    worker.on('exit', (code) => { this.onCrash(slot, `it exited with code ${code}`) })
    // after the listeners: adding a 'message' listener refs the worker's port again
    worker.unref()
    this.slots.push(slot)
    return slot
  }

  private onMessage (slot: Slot, msg: WorkerMessage): void {
    slot.heapBytes = msg.heapBytes
    if (msg.type !== 'result') return
    const job = slot.job
    if (job == null || job.request.id !== msg.id) return
    slot.job = undefined
    slot.worker.unref()
    this.counters.jobs++
    this.finish(job, msg)
    if (slot.heapBytes > this.maxHeapBytes || (!msg.ok && msg.fatal)) this.recycle(slot)
    this.dispatch()
  }

  private finish (job: Job, msg: JobResponse & { type: 'result' }): void {
    if (msg.ok) {
      this.settle(job, job.request.kind === 'decode' ? msg.image : job.request.kind === 'task' ? msg.value : msg.bytes)
    } else if (job.request.kind === 'task') {
      this.settle(job, undefined, errorFromWire(msg.error))
    } else {
      const prefix = msg.error.name === 'CodecError' ? '' : `${msg.error.name}: `
      this.settle(job, undefined, new CodecError(prefix + msg.error.message))
    }
  }

  /** Terminate a worker whose heap grew too large; a new one starts when a job needs it. */
  private recycle (slot: Slot): void {
    this.remove(slot)
    this.counters.recycles++
    this.counters.lastRecycledHeapBytes = slot.heapBytes
    void slot.worker.terminate()
  }

  /** Stop a worker whose job is no longer wanted (aborted or over time); a new one starts when needed. */
  private abandon (slot: Slot): void {
    if (slot.gone) return
    this.remove(slot)
    this.counters.recycles++
    void slot.worker.terminate()
  }

  private onCrash (slot: Slot, how: string): void {
    if (slot.gone) return
    this.remove(slot)
    this.counters.crashes++
    const job = slot.job
    if (job != null) {
      this.settle(job, undefined, new CodecError(`codec worker crashed while running a ${job.request.kind} job (${how}); the job was not completed and the worker has been replaced`))
    }
    void slot.worker.terminate()
    this.dispatch()
  }

  private remove (slot: Slot): void {
    slot.gone = true
    const i = this.slots.indexOf(slot)
    if (i >= 0) this.slots.splice(i, 1)
  }
}

let defaultPool: CodecPool | undefined

/** A process-wide pool with default options, created on first use (workers are unref'd). */
export function getDefaultPool (): CodecPool {
  defaultPool ??= new CodecPool()
  return defaultPool
}
