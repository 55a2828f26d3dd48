/**
 * The walk over marker segments, by their lengths — never by scanning for byte
 * pairs, which also occur inside segments. One walk for the main header (up to
 * the first SOT) and for a tile-part header (up to SOD); what counts as wrong
 * is each consumer's rule, so every refusal is a hook that must throw.
 */
import { markerName, EOC, isMarker as markerForm } from './markers.js'
import type { ByteReader } from './reader.js'

/** One marker segment. `offset` is where its marker starts; `length` counts the marker too (2 + Lxxx). */
export interface Segment {
  marker: number
  offset: number
  length: number
  /** First byte after the length field. */
  body: number
  /** First byte after the segment. */
  end: number
}

export interface WalkRules {
  /** The marker that ends the walk (SOT after a main header, SOD after a tile-part header); it is not a segment. */
  stop: number
  /** Segments must end at or before this offset (default: the end of the bytes). */
  limit?: number
  /** Which words are markers (default: any 0xFFxx). */
  isMarker?: (word: number) => boolean
  /** Names the marker field in truncation errors (default 'main header marker'). */
  what?: string
  /** A word that is not a marker where one must be. */
  notMarker: (offset: number, word: number) => never
  /** EOC before `stop`; without this hook, EOC is walked like any other segment. */
  eoc?: (offset: number) => never
  /** A segment length under 2, or a segment running past `limit`. */
  badLength: (marker: number, offset: number, length: number) => never
}

/**
 * Walks the segments from `start` to the `stop` marker, calling `visit` on each
 * (it may throw to refuse one). Returns the offset of the `stop` marker.
 */
export function walkSegments (r: ByteReader, start: number, rules: WalkRules, visit: (segment: Segment) => void): number {
  const limit = rules.limit ?? r.length
  const isMarker = rules.isMarker ?? markerForm
  const what = rules.what ?? 'main header marker'
  let p = start
  for (;;) {
    const marker = r.u16(p, what)
    if (marker === rules.stop) return p
    if (marker === EOC && rules.eoc != null) rules.eoc(p)
    if (!isMarker(marker)) rules.notMarker(p, marker)
    const length = r.u16(p + 2, `${markerName(marker)} length`)
    if (length < 2 || p + 2 + length > limit) rules.badLength(marker, p, length)
    const end = p + 2 + length
    visit({ marker, offset: p, length: 2 + length, body: p + 4, end })
    p = end
  }
}
