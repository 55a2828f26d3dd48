export { collectGarbage, GC_MARKER, type GcOptions, type GcResult, type GcProgressEvent } from './gc.js'
export { listHoldings, type Holding } from './holdings.js'
