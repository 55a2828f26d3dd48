/**
 * Parsing a DICOM file or bare data set held in memory with dicom-parser:
 * preamble detection, deflated data sets, and the transfer syntax in force.
 */
import dicomParser, { type DataSet } from 'dicom-parser'
import { inflateRawSync } from 'node:zlib'
import { InvalidInputError } from '../errors.js'

/** Parses the bytes (up to `untilTag` when given, e.g. 'x7fe00010' to skip pixel data); corrupt or truncated files give InvalidInputError. */
export function parseDicom (label: string, bytes: Uint8Array, untilTag?: string): { ds: DataSet, ts: string } {
  const hasPreamble = bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM'
  const options: dicomParser.ParseDicomOptions = { inflater: inflate }
  if (untilTag != null) options.untilTag = untilTag
  if (!hasPreamble) {
    // Bare data set: explicit VR when bytes 4..5 are two capital letters.
    const explicit = bytes.length >= 6 && /^[A-Z]{2}$/.test(String.fromCharCode(bytes[4], bytes[5]))
    options.TransferSyntaxUID = explicit ? '1.2.840.10008.1.2.1' : '1.2.840.10008.1.2'
  }
  let ds: DataSet
  try {
    ds = dicomParser.parseDicom(bytes, options)
  } catch (err) {
    const inner = (err as { exception?: unknown }).exception ?? err
    const reason = inner instanceof Error ? inner.message : String(inner)
    const truncated = /end of buffer|overrun|past the end|beyond/i.test(reason)
    throw new InvalidInputError(`${label}: ${truncated ? 'truncated or ' : ''}corrupt DICOM: ${reason}`, { cause: err })
  }
  const declared = ds.string('x00020010')
  // A bare data set has no file meta group: use the syntax it was parsed with.
  const ts = (declared ?? options.TransferSyntaxUID ?? '').replace(/\0/g, '').trim()
  return { ds, ts }
}

/** Deflated transfer syntax: inflate everything after the file meta group. */
function inflate (arr: Uint8Array, position: number): Uint8Array {
  const inflated = inflateRawSync(arr.subarray(position))
  const out = new Uint8Array(position + inflated.length)
  out.set(arr.subarray(0, position))
  out.set(inflated, position)
  return out
}
