export { publish, type PublishOptions, type PublishResult, type PublishedItem, type PublishFailure, type PublishWarning, type PublishProgressEvent, type LevelSummary } from './publish.js'
export { PublishedItemList } from './item-list.js'
export { collectInputs, type InputFile, type SkippedEntry, type CollectOptions } from './collect.js'
