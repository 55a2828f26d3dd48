/**
 * Encapsulated pixel data (PS3.5 A.4) cut into frames: by the Basic Offset
 * Table when it has one entry per frame, else one fragment per frame when the
 * counts agree, else by the codestream start marker that opens each frame
 * (fragmented frames without an offset table).
 */
import type { DataSet, Element } from 'dicom-parser'
import { InvalidInputError } from '../../errors.js'
import { SOC } from '../../j2k/index.js'

/** Whether a fragment opens a new compressed frame (its codestream start marker). */
export type FrameStart = (fragment: Uint8Array) => boolean

/** JPEG (SOI), JPEG 2000 / HTJ2K (SOC) or a JP2 signature box: the markers that begin a codestream. */
export function startsCodestream (fragment: Uint8Array): boolean {
  if (fragment.length < 2) return false
  const m = (fragment[0] << 8) | fragment[1]
  if (m === 0xffd8 || m === SOC) return true
  return fragment.length >= 8 && fragment[4] === 0x6a && fragment[5] === 0x50 && fragment[6] === 0x20 && fragment[7] === 0x20
}

/** The compressed bytes of every frame, in order. */
export function encapsulatedFrames (label: string, ds: DataSet, pixel: Element, frames: number, starts: FrameStart): Uint8Array[] {
  const fragments = (pixel.fragments ?? []).map(f => ds.byteArray.subarray(f.position, f.position + f.length))
  if (fragments.length === 0) throw new InvalidInputError(`${label}: encapsulated DICOM pixel data holds no fragment`)
  const offsets = pixel.basicOffsetTable ?? []
  if (frames === 1) return [concat(fragments)]
  if (offsets.length === frames) {
    const at = (pixel.fragments ?? []).map(f => f.offset)
    return offsets.map((o, i) => {
      const end = i + 1 < frames ? offsets[i + 1] : Infinity
      const parts = fragments.filter((_, k) => at[k] >= o && at[k] < end)
      if (parts.length === 0) throw new InvalidInputError(`${label}: Basic Offset Table entry ${i} (${o}) points at no fragment`)
      return concat(parts)
    })
  }
  if (fragments.length === frames) return fragments
  const grouped: Uint8Array[][] = []
  for (const f of fragments) {
    if (grouped.length === 0 || starts(f)) grouped.push([f])
    else grouped[grouped.length - 1].push(f)
  }
  if (grouped.length !== frames) {
    throw new InvalidInputError(`${label}: DICOM NumberOfFrames is ${frames} but the ${fragments.length} pixel data fragments hold ${grouped.length} codestreams`)
  }
  return grouped.map(concat)
}

function concat (parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0))
  let at = 0
  for (const p of parts) { out.set(p, at); at += p.length }
  return out
}
