/**
 * Format-wide constants and shapes shared by every node type (docs/FORMAT.md).
 */

/**
 * Current format version (docs/FORMAT.md). Any change to a node's fields or to the block rules
 * bumps it. Version 2 added the dataset root's per-level UnixFS directories (`levels[k].dir`);
 * a dataset root carries the version it was written in.
 */
export const FORMAT_VERSION = 2
/**
 * The `version` of image, volume, slices and index nodes: unchanged since version 1, so they
 * stay byte-identical (same CIDs) to those of version-1 datasets and are shared with them.
 */
export const NODE_VERSION = 1
/** Dataset root versions readers accept. */
export const DATASET_VERSIONS = [1, 2] as const

/** The per-level summary every builder returns and the volume/dataset roots aggregate. */
export interface LevelSummary {
  level: number
  width: number
  height: number
  /** Bytes a getter moves for this level: its leaves + the EOC leaf. */
  bytes: number
}
