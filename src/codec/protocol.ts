/**
 * Messages between CodecPool and its worker threads.
 */
import type { RasterImage } from '../types.js'
import type { DecodeOptions, EncodeOptions } from './options.js'
import type { CompiledWasm } from './wasm-api.js'

/** Data given to each worker at start. */
export interface WorkerInit {
  /** Compiled OpenJPH module shared by all workers (compiled once per process). */
  compiled?: CompiledWasm
  /** Modules of this package (URLs) to import before the first job, while the WASM module instantiates. */
  preload?: string[]
}

/** Imports a job or task module ahead of its first use (CodecPool.preload); no reply. */
export interface LoadRequest { kind: 'load', module: string }

export type JobRequest =
  | { id: number, kind: 'encode', image: RasterImage, options: EncodeOptions }
  | { id: number, kind: 'decode', codestream: Uint8Array, options: DecodeOptions }
  /**
   * A job of another module run on the worker (e.g. PNG output): `module` is the URL of an ES
   * module of this package exporting `runJob(image): Uint8Array`, loaded once per worker.
   * The codec does not import those modules, so the folders that use the pool stay above it.
   */
  | { id: number, kind: 'job', module: string, image: RasterImage }
  /**
   * A task of another module that uses the worker's codec (e.g. publishing a PNG: decode,
   * encode, chunk): `module` exports `runTask(input, codec): TaskOutput`; errors keep their class.
   */
  | { id: number, kind: 'task', module: string, input: unknown }

/** Sent once the worker's WASM module is instantiated. */
export interface ReadyMessage { type: 'ready', heapBytes: number }

export type JobResponse =
  | { type: 'result', id: number, ok: true, bytes?: Uint8Array, image?: RasterImage, value?: unknown, heapBytes: number }
  | { type: 'result', id: number, ok: false, error: { name: string, message: string }, heapBytes: number, fatal: boolean }

export type WorkerMessage = ReadyMessage | JobResponse

/** What a task returns: a value to post back and the buffers to transfer with it (not copy). */
export interface TaskOutput { value: unknown, transfer?: ArrayBuffer[] }

/** The worker's codec as a task sees it. */
export interface TaskCodec { encode: (image: RasterImage, options?: EncodeOptions) => Uint8Array }
