/**
 * Worker thread of CodecPool: owns one OpenJPH WASM module and runs one job at
 * a time. Results are transferred back (no copy). After each job it reports
 * its WASM heap size so the pool can recycle it when the heap grew too large.
 */
import { parentPort, workerData, type MessagePort } from 'node:worker_threads'
import { CodecModule } from './codec-module.js'
import { decodeWith } from './decode.js'
import { encodeWith } from './encode.js'
import type { RasterImage } from '../types.js'
import type { JobRequest, JobResponse, LoadRequest, TaskCodec, TaskOutput, WorkerInit } from './protocol.js'

if (parentPort == null) throw new Error('src/codec/worker.js must run as a worker thread (it is started by CodecPool)')
const port: MessagePort = parentPort
const init = (workerData ?? {}) as WorkerInit
const modules = new Map<string, Promise<Record<string, unknown>>>()
// preloaded modules import while the WASM module instantiates; a job starts once both are done
// (a module that fails to import fails the jobs that use it, as without preloading)
const codecReady = Promise.all([CodecModule.create(init.compiled), ...(init.preload ?? []).map(async m => await importOnce(m).catch(() => {}))]).then(([codec]) => codec)

codecReady.then(
  (codec) => { port.postMessage({ type: 'ready', heapBytes: codec.heapBytes() }) },
  (err: unknown) => { throw err } // uncaught in the worker: the pool sees 'error' and replaces it
)

port.on('message', (job: JobRequest | LoadRequest) => {
  if (job.kind === 'load') void importOnce(job.module).catch(() => {})
  else void run(job)
})

type JobFunction = (image: RasterImage) => Uint8Array
type TaskFunction = (input: unknown, codec: TaskCodec) => TaskOutput | Promise<TaskOutput>

/** A job or task module, imported once per worker. */
async function importOnce (module: string): Promise<Record<string, unknown>> {
  let loaded = modules.get(module)
  if (loaded == null) {
    loaded = import(module)
    modules.set(module, loaded)
  }
  return await loaded
}

/** A function exported by a job or task module. */
async function load<F> (module: string, name: 'runJob' | 'runTask'): Promise<F> {
  const fn = (await importOnce(module))[name]
  if (typeof fn !== 'function') throw new Error(`${module} exports no ${name}()`)
  return fn as F
}

async function run (job: JobRequest): Promise<void> {
  const codec = await codecReady
  let response: JobResponse
  const transfer: ArrayBuffer[] = []
  try {
    if (job.kind === 'task') {
      const out = await (await load<TaskFunction>(job.module, 'runTask'))(job.input, { encode: (image, options) => encodeWith(codec, image, options ?? {}) })
      transfer.push(...(out.transfer ?? []))
      response = { type: 'result', id: job.id, ok: true, value: out.value, heapBytes: codec.heapBytes() }
    } else if (job.kind === 'encode' || job.kind === 'job') {
      const bytes = job.kind === 'encode' ? encodeWith(codec, job.image, job.options) : (await load<JobFunction>(job.module, 'runJob'))(job.image)
      transfer.push(bytes.buffer as ArrayBuffer)
      response = { type: 'result', id: job.id, ok: true, bytes, heapBytes: codec.heapBytes() }
    } else {
      const image = decodeWith(codec, job.codestream, job.options)
      transfer.push(image.data.buffer as ArrayBuffer)
      response = { type: 'result', id: job.id, ok: true, image, heapBytes: codec.heapBytes() }
    }
  } catch (err) {
    const e = err instanceof Error ? err : new Error(String(err))
    response = { type: 'result', id: job.id, ok: false, error: { name: e.name, message: e.message }, heapBytes: codec.heapBytes(), fatal: codec.dead }
  }
  port.postMessage(response, transfer)
}
