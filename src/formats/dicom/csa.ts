/**
 * Siemens CSA header (private tag (0029,1010) "CSA Image Header Info"): a list
 * of named elements, each holding a few items of text. Two layouts exist: CSA2
 * starts with "SV10" and 4 bytes, CSA1 starts directly with the element count.
 * Every count and length comes from the file, so each is checked against the
 * bytes that are left before it is used.
 */

/** Named CSA elements and their item strings (trailing NULs and blanks removed). */
export type CsaHeader = Map<string, string[]>

/** Element count bound: dcm2niix already treats more than 128 as corruption; this leaves room. */
const MAX_ELEMENTS = 1024
/** Items per element bound (one item per slice at most for per-slice lists such as slice times). */
const MAX_ITEMS = 4096

/** Parses the bytes of a CSA header; undefined when they are not one (the caller then ignores them). */
export function parseCsaHeader (bytes: Uint8Array): CsaHeader | undefined {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength)
  let pos = 0
  if (bytes.length >= 8 && String.fromCharCode(bytes[0], bytes[1], bytes[2], bytes[3]) === 'SV10') pos = 8
  if (pos + 8 > bytes.length) return undefined
  const count = view.getUint32(pos, true)
  pos += 8 // count and an unused word (77)
  if (count < 1 || count > MAX_ELEMENTS) return undefined
  const out: CsaHeader = new Map()
  for (let e = 0; e < count; e++) {
    if (pos + 84 > bytes.length) return undefined
    const name = cString(bytes.subarray(pos, pos + 64))
    const items = view.getInt32(pos + 76, true)
    pos += 84 // name[64], vm, vr[4], syngodt, nitems, xx
    if (items < 0 || items > MAX_ITEMS) return undefined
    const values: string[] = []
    for (let i = 0; i < items; i++) {
      if (pos + 16 > bytes.length) return undefined
      const length = view.getInt32(pos + 4, true)
      pos += 16
      if (length < 0 || pos + length > bytes.length) return undefined
      const value = cString(bytes.subarray(pos, pos + length)).trim()
      if (value !== '') values.push(value)
      pos += Math.ceil(length / 4) * 4
    }
    out.set(name, values)
  }
  return out
}

/** The first item of an element as a number, undefined when absent or not numeric. */
export function csaNumber (csa: CsaHeader, name: string): number | undefined {
  const v = csa.get(name)?.[0]
  if (v == null) return undefined
  const n = Number(v)
  return Number.isFinite(n) ? n : undefined
}

/** The items of an element as numbers, undefined unless there are exactly `count` numeric items. */
export function csaNumbers (csa: CsaHeader, name: string, count: number): number[] | undefined {
  const v = csa.get(name)
  if (v == null || v.length < count) return undefined
  const out = v.slice(0, count).map(Number)
  return out.every(Number.isFinite) ? out : undefined
}

function cString (bytes: Uint8Array): string {
  const end = bytes.indexOf(0)
  const part = bytes.subarray(0, end < 0 ? bytes.length : end)
  return Buffer.from(part.buffer, part.byteOffset, part.byteLength).toString('latin1')
}
