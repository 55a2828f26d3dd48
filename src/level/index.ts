/**
 * The plan of a level, made once, and what follows it directly: the blocks it needs (walk,
 * prefetch) and the codestream of one image's level.
 */
export { chooseLevel, parseLevel, type LevelSelection, type LevelInfo } from './select.js'
export { readRoot, readBlock, type AnyRoot, type BlockRole } from './roots.js'
export { entryFilter, normalisePath, type EntrySelection } from './entries.js'
export { hasEntriesUnder, lookupEntry, openRoot, rootEntries, planEntry, planImageLevel, volumeSliceRoots, planSlice, type EntryRef, type EntryPlan, type ImagePlan, type VolumePlan, type PlanReadOptions } from './plan.js'
export { walkLevel, type NeededBlock, type WalkOptions } from './blocks.js'
export { fetchLevelBlocks, type FetchBlocksOptions, type FetchLevelResult, type FetchProgressEvent } from './fetch.js'
export { readLevelCodestream, type LevelBytesEvent } from './codestream.js'
export { checkLevelBounds, checkLevelHeader } from './level-header.js'
export { mirrorLevel, type MirrorResult } from './mirror.js'
export { planPins, type PinPlan, type PinPlanOptions } from './pin-plan.js'
export { diffRoots, type DatasetDiff, type DiffEntry, type DiffOptions } from './diff.js'
