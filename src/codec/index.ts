/**
 * mist-p2p codec: lossless, resolution-progressive HTJ2K over the OpenJPH WASM
 * build, in the calling thread or in a pool of worker threads.
 */
export { defaultDecompositions, reducedSize, MAX_DECOMPOSITIONS, MIN_DECOMPOSITIONS } from './decompositions.js'
export type { EncodeOptions, DecodeOptions } from './options.js'
export { encodeHTJ2K, decodeHTJ2K } from './local.js'
export { toSampleType } from './container.js'
export { validateImage, sampleRange, MAX_BITS, MAX_SIDE, MAX_DECODED_BYTES } from './validate.js'
export { checkCodestream, MAX_TILES, MAX_PRECINCTS, MAX_CODEBLOCKS, type CheckedHeader } from './header-check.js'
export { parseMainHeader, removeComments, type Segment, type MainHeader } from '../j2k/index.js'
export { CodecPool, getDefaultPool, ownBuffer, type CodecPoolOptions, type CodecPoolStats, type PoolEncodeOptions, type PoolDecodeOptions, type JobControl } from './pool.js'
export { jobModuleUrl } from './worker-url.js'
export type { TaskCodec, TaskOutput } from './protocol.js'
export { synthesizeImage } from './synthetic.js'
