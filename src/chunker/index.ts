/**
 * The chunker: HTJ2K codestream -> resolution-level leaves -> image, volume and
 * dataset DAGs. The format is specified in docs/FORMAT.md.
 */
export { parseCodestream, type CodestreamLayout, type LevelRange } from './codestream.js'
export { levelExtent, MAX_DECOMPOSITIONS } from '../j2k/index.js'
export { MAX_BLOCK_BYTES } from './block.js'
export { planLeaves, eocBlock, leafBoundaries, DEFAULT_GROUP_BYTES, CHUNK_BYTES, MAX_LEAVES, type LeafPlan } from './leaves.js'
export { buildLevelFile, MAX_LINKS, type LevelFile } from './level-file.js'
export { normaliseImageMeta, normaliseVolumeMeta } from './meta.js'
export {
  buildImageDag, decodeImageRoot, levelPlan, EOC_CID,
  type ImageDag, type ImageRoot, type ImageRootLevel, type ImageRootCodestream, type LevelPlan
} from './image.js'
export { FORMAT_VERSION, NODE_VERSION, DATASET_VERSIONS, type LevelSummary } from './format.js'
export { buildUnixfsDirectory, estimateDirectorySize, HAMT_THRESHOLD_BYTES, HAMT_FANOUT, type DirLink, type BuiltDirectory } from './unixfs-dir.js'
export { LevelDirectoryBuilder, type LevelTarget, type LevelDirectoryStats } from './level-dirs.js'
export {
  buildVolumeDag, decodeVolumeRoot, decodeSliceShard, volumeSlices, checkVolumeSlice, SLICES_INLINE, SLICES_PER_SHARD, MAX_SHARDS,
  type VolumeRoot, type SliceShard
} from './volume.js'
export {
  buildDatasetDag, buildSortedDatasetDag, nameOrder, decodeDatasetRoot, decodeIndexNode, datasetEntries, lookupDatasetEntry, datasetLevels, invalidName, compareNames,
  FANOUT, MAX_NAME_BYTES,
  type DatasetRoot, type DatasetEntry, type DatasetChild, type DatasetLevel, type DatasetNode
} from './dataset.js'
export { maxLevelBody, oversizedLevel, repeatedLeaf, CODED_PER_RAW_BYTE } from './bounds.js'
export { rootKind, type NodeKind } from './kind.js'
export { diffDatasets, type EntryChange } from './dataset-diff.js'
