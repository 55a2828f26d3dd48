/**
 * JPEG 2000 codestream marker parsing (ISO/IEC 15444-1 Annex A), by segment
 * lengths — never by scanning for byte pairs, which also occur inside segments.
 * Used to strip OpenJPH's COM segment (the layout itself is checked with the
 * chunker's parseCodestream).
 */
import { COM, SOC, SOT } from '../chunker/markers.js'
import { CodestreamError } from '../errors.js'

/** The marker codes are the chunker's table (one table for the project). */
export { COM, SOC, SOT }

/** One main-header marker segment. `offset` is where the marker starts; `length` counts the marker too. */
export interface Segment {
  marker: number
  offset: number
  length: number
}

/** The main header: its segments (after SOC) and the offset of the first SOT. */
export interface MainHeader {
  segments: Segment[]
  end: number
}

function u16 (b: Uint8Array, at: number): number {
  if (at + 2 > b.length) throw new CodestreamError(`codestream truncated: needed 2 bytes at offset ${at}, have ${b.length}`)
  return (b[at] << 8) | b[at + 1]
}


function hex (marker: number): string {
  return marker.toString(16).toUpperCase()
}

/** Walk the main header segment by segment until the first SOT. */
export function parseMainHeader (bytes: Uint8Array): MainHeader {
  if (u16(bytes, 0) !== SOC) throw new CodestreamError('not a JPEG 2000 codestream: it does not start with SOC (FF4F)')
  const segments: Segment[] = []
  let at = 2
  for (;;) {
    const marker = u16(bytes, at)
    if (marker === SOT) return { segments, end: at }
    if ((marker & 0xff00) !== 0xff00 || marker < 0xff30) {
      throw new CodestreamError(`malformed main header: expected a marker at offset ${at}, found ${hex(marker)}`)
    }
    const length = u16(bytes, at + 2)
    if (length < 2 || at + 2 + length > bytes.length) {
      throw new CodestreamError(`malformed main header: segment ${hex(marker)} at offset ${at} has length ${length} past the end`)
    }
    segments.push({ marker, offset: at, length: 2 + length })
    at += 2 + length
  }
}

/** Copy of the codestream without its main-header COM segments (tile-parts are untouched). */
export function removeComments (bytes: Uint8Array): Uint8Array {
  const { segments } = parseMainHeader(bytes)
  const comments = segments.filter((s) => s.marker === COM)
  if (comments.length === 0) return bytes
  const removed = comments.reduce((n, s) => n + s.length, 0)
  const out = new Uint8Array(bytes.length - removed)
  let from = 0
  let to = 0
  for (const s of comments) {
    out.set(bytes.subarray(from, s.offset), to)
    to += s.offset - from
    from = s.offset + s.length
  }
  out.set(bytes.subarray(from), to)
  return out
}
