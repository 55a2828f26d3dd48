/**
 * Lossless HTJ2K encoding on a given CodecModule, producing the
 * resolution-streamable, deterministic layout mist-p2p stores.
 */
import { CodecError, CodestreamError } from '../errors.js'
import type { RasterImage } from '../types.js'
import type { CodecModule } from './codec-module.js'
import { encodeContainer } from './container.js'
import { defaultDecompositions } from './decompositions.js'
import { parseCodestream } from '../chunker/codestream.js'
import { removeComments } from '../j2k/index.js'
import { checkDecompositions, type EncodeOptions } from './options.js'
import { validateImage } from './validate.js'
import { wasmFailure } from './wasm-failure.js'

const RPCL = 2

/**
 * Encode `image` with reversible 5/3, RPCL, one tile, tile-parts divided at
 * resolutions and a TLM marker; remove OpenJPH's COM (version string) segment
 * so the bytes depend only on pixels and options; check the resulting layout
 * (main header, one tile-part per resolution coarsest first, EOC).
 */
export function encodeWith (codec: CodecModule, image: RasterImage, options: EncodeOptions = {}): Uint8Array {
  validateImage(image)
  const decompositions = options.decompositions ?? defaultDecompositions(image.width, image.height)
  checkDecompositions(decompositions)
  const container = encodeContainer(image)
  const samples = image.width * image.height * image.components

  codec.clearLog()
  let raw: Uint8Array
  const encoder = new codec.wasm.HTJ2KEncoder()
  try {
    const input = encoder.getDecodedBuffer({
      width: image.width,
      height: image.height,
      bitsPerSample: container.bitsPerSample,
      componentCount: image.components,
      isSigned: container.signed,
      isUsingColorTransform: image.components === 3
    })
    if (input.length !== samples * container.bytesPerSample) {
      throw new CodecError(`OpenJPH gave a ${input.length}-byte input buffer, expected ${samples * container.bytesPerSample}`)
    }
    fill(input, image, container.bytesPerSample, container.signed)
    encoder.setQuality(true, 0)
    encoder.setDecompositions(decompositions)
    encoder.setProgressionOrder(RPCL)
    encoder.setTilePartDivisionsAtResolutions(true)
    encoder.setTLMMarker(true)
    encoder.encode()
    raw = encoder.getEncodedBuffer().slice() // copy at once: heap views move when memory grows
  } catch (err) {
    throw wasmFailure(codec, err, `encoding ${image.width}x${image.height} ${image.bitsStored}-bit image`)
  } finally {
    encoder.delete()
  }

  try {
    const out = removeComments(raw)
    // the layout that makes every resolution prefix decodable (the chunker's own parser)
    const layout = parseCodestream(out, 'encoder output')
    if (layout.decompositions !== decompositions || layout.width !== image.width || layout.height !== image.height || layout.progression !== 'RPCL' || layout.transform !== 1) {
      throw new CodestreamError(`codestream says ${layout.width}x${layout.height} ${layout.progression} with ${layout.decompositions} decompositions, expected ${image.width}x${image.height} RPCL with ${decompositions}`)
    }
    return out
  } catch (err) {
    throw new CodecError(`OpenJPH produced an unexpected codestream: ${(err as Error).message}`, { cause: err })
  }
}

/** Copy the samples into the encoder's heap buffer with the container's width and signedness. */
function fill (input: Uint8Array, image: RasterImage, bytesPerSample: 1 | 2, signed: boolean): void {
  if (bytesPerSample === 1) {
    input.set(image.data) // validated: every value fits in 0..255
    return
  }
  const n = image.data.length
  if (input.byteOffset % 2 === 0) {
    const view = signed ? new Int16Array(input.buffer, input.byteOffset, n) : new Uint16Array(input.buffer, input.byteOffset, n)
    view.set(image.data) // numeric conversion: sign-extends Int8, keeps validated values
    return
  }
  const dv = new DataView(input.buffer, input.byteOffset, input.byteLength)
  for (let i = 0; i < n; i++) {
    if (signed) dv.setInt16(2 * i, image.data[i], true)
    else dv.setUint16(2 * i, image.data[i], true)
  }
}
