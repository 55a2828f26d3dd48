/**
 * mist-p2p library API.
 */
export * from './errors.js'
export type * from './types.js'
export { Repo, defaultRepoPath, type RepoOpenOptions, type BlockSource } from './repo/index.js'
export { publish, type PublishOptions, type PublishResult, type PublishedItem, type PublishProgressEvent } from './publish/index.js'
export { retrieve, getImage, getVolume, readRoot, chooseLevel, type RetrieveOptions, type RetrieveResult, type GetOptions, type ImageResult, type VolumeResult } from './retrieve/index.js'
export { encodeHTJ2K, decodeHTJ2K, CodecPool, defaultDecompositions } from './codec/index.js'
export { parseCodestream } from './chunker/index.js'
export { readInput } from './formats/index.js'
export { createMistNode, NetworkStore, loadOrCreateIdentity, loadSwarmKey, generateSwarmKey, writeSwarmKey, type MistNode, type MistNodeOptions } from './node/index.js'
export { fetchLevelBlocks, type FetchLevelOptions, type FetchLevelResult } from './mirror/index.js'
export { exportCar, importCar } from './car/index.js'
export { verifyRoot } from './verify/index.js'
