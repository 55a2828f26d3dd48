export { fetchLevelBlocks, type FetchLevelOptions, type FetchLevelResult, type FetchProgressEvent } from './fetch-level.js'
export { recordMirror, listMirrors, type MirrorRecord, type MirrorSelection } from './record.js'
