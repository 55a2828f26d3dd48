/**
 * Encode and decode in the calling thread, on one lazily created module
 * shared by the whole thread. The module is dropped (and re-created on the
 * next call) after it aborted or when its heap grew past LOCAL_MAX_HEAP_BYTES,
 * because WASM memory never shrinks.
 */
import type { RasterImage } from '../types.js'
import { CodecModule } from './codec-module.js'
import { decodeWith } from './decode.js'
import { encodeWith } from './encode.js'
import type { DecodeOptions, EncodeOptions } from './options.js'

/** Heap size above which the calling thread's module is released after a call. */
export const LOCAL_MAX_HEAP_BYTES = 256 * 1024 * 1024

let current: Promise<CodecModule> | undefined

async function acquire (): Promise<CodecModule> {
  if (current == null) {
    current = CodecModule.create()
    current.catch(() => { current = undefined })
  }
  return await current
}

function release (codec: CodecModule): void {
  if (codec.dead || codec.heapBytes() > LOCAL_MAX_HEAP_BYTES) current = undefined
}

/** Encode losslessly in the calling thread (see encodeWith for the layout). */
export async function encodeHTJ2K (image: RasterImage, options?: EncodeOptions): Promise<Uint8Array> {
  const codec = await acquire()
  try {
    return encodeWith(codec, image, options)
  } finally {
    release(codec)
  }
}

/** Decode in the calling thread; `reduce` = number of finest levels discarded. */
export async function decodeHTJ2K (codestream: Uint8Array, options?: DecodeOptions): Promise<RasterImage> {
  const codec = await acquire()
  try {
    return decodeWith(codec, codestream, options)
  } finally {
    release(codec)
  }
}
