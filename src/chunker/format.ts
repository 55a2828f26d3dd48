/**
 * Format-wide constants and shapes shared by every node type (docs/FORMAT.md).
 */

/** Current version of every mist node. Any change to a node's fields or to the block rules bumps it. */
export const FORMAT_VERSION = 1

/** The per-level summary every builder returns and the volume/dataset roots aggregate. */
export interface LevelSummary {
  level: number
  width: number
  height: number
  /** Bytes a getter moves for this level: its leaves + the EOC leaf. */
  bytes: number
}
