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
}

export type JobRequest =
  | { id: number, kind: 'encode', image: RasterImage, options: EncodeOptions }
  | { id: number, kind: 'decode', codestream: Uint8Array, options: DecodeOptions }
  /**
   * A job of another module run on the worker (e.g. PNG output): `module` is the URL of an ES
   * module of this package exporting `runJob(image): Uint8Array`, loaded once per worker.
   * The codec does not import those modules, so the folders that use the pool stay above it.
   */
  | { id: number, kind: 'job', module: string, image: RasterImage }

/** Sent once the worker's WASM module is instantiated. */
export interface ReadyMessage { type: 'ready', heapBytes: number }

export type JobResponse =
  | { type: 'result', id: number, ok: true, bytes?: Uint8Array, image?: RasterImage, heapBytes: number }
  | { type: 'result', id: number, ok: false, error: { name: string, message: string }, heapBytes: number, fatal: boolean }

export type WorkerMessage = ReadyMessage | JobResponse
