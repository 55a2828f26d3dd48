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
import type { JobRequest, JobResponse, WorkerInit } from './protocol.js'

if (parentPort == null) throw new Error('src/codec/worker.js must run as a worker thread (it is started by CodecPool)')
const port: MessagePort = parentPort
const init = (workerData ?? {}) as WorkerInit
const codecReady = CodecModule.create(init.compiled)

codecReady.then(
  (codec) => { port.postMessage({ type: 'ready', heapBytes: codec.heapBytes() }) },
  (err: unknown) => { throw err } // uncaught in the worker: the pool sees 'error' and replaces it
)

port.on('message', (job: JobRequest) => {
  void run(job)
})

type JobFunction = (image: RasterImage) => Uint8Array
const jobs = new Map<string, Promise<JobFunction>>()

/** The `runJob` of a job module, imported once per worker. */
async function loadJob (module: string): Promise<JobFunction> {
  let loaded = jobs.get(module)
  if (loaded == null) {
    loaded = import(module).then((m: { runJob?: JobFunction }) => {
      if (typeof m.runJob !== 'function') throw new Error(`${module} exports no runJob(image)`)
      return m.runJob
    })
    jobs.set(module, loaded)
  }
  return await loaded
}

async function run (job: JobRequest): Promise<void> {
  const codec = await codecReady
  let response: JobResponse
  const transfer: ArrayBuffer[] = []
  try {
    if (job.kind === 'encode' || job.kind === 'job') {
      const bytes = job.kind === 'encode' ? encodeWith(codec, job.image, job.options) : (await loadJob(job.module))(job.image)
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
