/**
 * mist-p2p library API. Start with `createMist` (the same calls the CLI makes); the lower
 * layers below it are exported for tools that need one step of the path.
 */
export * from './errors.js'
export type * from './types.js'
export { createMist, openStore, startServing, type Mist, type MistOptions, type OpenStoreOptions, type OpenedStore, type ServeOptions, type Serving } from './mist/index.js'
export { Repo, defaultRepoPath, listMirrors, type RepoOpenOptions, type BlockSource, type BlockStore, type MirrorRecord, type TransferStats } from './repo/index.js'
export { publish, type PublishOptions, type PublishResult, type PublishedItem, type PublishProgressEvent } from './publish/index.js'
export {
  chooseLevel, parseLevel, readRoot, openRoot, rootEntries, planEntry, planImageLevel, volumeSliceRoots, planSlice, walkLevel, fetchLevelBlocks, mirrorLevel, planPins, readLevelCodestream,
  type LevelSelection, type AnyRoot, type EntryRef, type EntryPlan, type ImagePlan, type VolumePlan, type NeededBlock, type FetchBlocksOptions, type FetchLevelResult, type MirrorResult
} from './level/index.js'
export { retrieve, getImage, getVolume, decodeImageLevel, volumeLevelSlices, type RetrieveOptions, type RetrieveResult, type GetOptions, type ImageResult, type VolumeResult } from './retrieve/index.js'
export { encodeHTJ2K, decodeHTJ2K, CodecPool, defaultDecompositions } from './codec/index.js'
export { parseCodestream } from './chunker/index.js'
export { readInput } from './formats/index.js'
export { createMistNode, NetworkStore, loadOrCreateIdentity, loadSwarmKey, generateSwarmKey, writeSwarmKey, type MistNode, type MistNodeOptions } from './node/index.js'
export { exportCar, importCar } from './car/index.js'
export { verifyRoot, type VerifyOptions, type VerifyResult } from './verify/index.js'
