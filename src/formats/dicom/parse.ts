/**
 * Parsing a DICOM file or bare data set held in memory with dicom-parser:
 * preamble detection, deflated data sets, and the transfer syntax in force.
 */
import dicomParser, { type DataSet } from 'dicom-parser'
import { inflateRawSync } from 'node:zlib'
import { InvalidInputError, MistError, UnsupportedInputError } from '../../errors.js'
import { MAX_INFLATED_BYTES } from '../limits.js'

/** Parses the bytes (up to `untilTag` when given, e.g. 'x7fe00010' to skip pixel data); corrupt or truncated files give InvalidInputError. */
export function parseDicom (label: string, bytes: Uint8Array, untilTag?: string): { ds: DataSet, ts: string } {
  const hasPreamble = bytes.length >= 132 && String.fromCharCode(...bytes.subarray(128, 132)) === 'DICM'
  const options: dicomParser.ParseDicomOptions = { inflater: (arr, position) => inflateDataSet(label, arr, position) }
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
    if (inner instanceof MistError) throw inner // the inflater's own refusal
    const reason = inner instanceof Error ? inner.message : String(inner)
    const truncated = /end of buffer|overrun|past the end|beyond/i.test(reason)
    throw new InvalidInputError(`${label}: ${truncated ? 'truncated or ' : ''}corrupt DICOM: ${reason}`, { cause: err })
  }
  const declared = ds.string('x00020010')
  // A bare data set has no file meta group: use the syntax it was parsed with.
  const ts = (declared ?? options.TransferSyntaxUID ?? '').replace(/\0/g, '').trim()
  return { ds, ts }
}

/**
 * Deflated transfer syntax: everything after the file meta group inflated, behind the meta group.
 * The output is capped at MAX_INFLATED_BYTES (a few kilobytes can inflate to gigabytes), and the
 * meta group goes in front as stored deflate blocks, so zlib writes the whole result into one
 * buffer: the largest data set costs the cap once, not twice.
 */
function inflateDataSet (label: string, arr: Uint8Array, position: number): Uint8Array {
  const prefix = arr.subarray(0, position)
  const stored: Uint8Array[] = []
  for (let at = 0; at < prefix.length; at += 0xffff) {
    const part = prefix.subarray(at, at + 0xffff)
    const header = Uint8Array.of(0, part.length & 0xff, part.length >> 8, ~part.length & 0xff, (~part.length >> 8) & 0xff) // BFINAL=0, BTYPE=stored, LEN, NLEN
    stored.push(header, part)
  }
  try {
    return inflateRawSync(Buffer.concat([...stored, arr.subarray(position)]), { maxOutputLength: position + MAX_INFLATED_BYTES })
  } catch (err) {
    if ((err as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE') {
      throw new UnsupportedInputError(`${label}: deflated DICOM data set inflates to more than ${MAX_INFLATED_BYTES} bytes (the limit for a deflated file, which is held whole); refused. Convert it with \`gdcmconv --raw\` first`)
    }
    throw new InvalidInputError(`${label}: corrupt deflated DICOM data set: ${(err as Error).message}`, { cause: err })
  }
}
