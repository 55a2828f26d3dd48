import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { promisify } from 'node:util'
import type { SampleArray } from '../../src/types.js'
import { OPJ_DECOMPRESS } from './env.js'

const run = promisify(execFile)
const tmp = mkdtempSync(path.join(os.tmpdir(), 'mist-opj-'))
let counter = 0

/** The raw bytes of a typed array, for Buffer.compare. */
export function bytesOf (a: SampleArray): Buffer {
  return Buffer.from(a.buffer, a.byteOffset, a.byteLength)
}

/**
 * Decodes a codestream with OpenJPEG's opj_decompress (the independent decoder) at
 * `reduce` discarded levels, to little-endian raw (.rawl). OpenJPEG writes each sample
 * masked to its precision and components one plane after another: sign-extend from
 * `bitsStored` and interleave, giving the layout decodeHTJ2K returns.
 */
export async function opjDecode (codestream: Uint8Array, reduce: number, like: { components: number, bitsStored: number, signed: boolean }): Promise<SampleArray> {
  const name = `cs-${process.pid}-${counter++}`
  const input = path.join(tmp, `${name}.j2k`)
  const output = path.join(tmp, `${name}-r${reduce}.rawl`)
  writeFileSync(input, codestream)
  await run(OPJ_DECOMPRESS as string, ['-i', input, '-o', output, '-r', String(reduce), '-quiet'])
  const raw = readFileSync(output)
  const { components, bitsStored: bits, signed } = like
  const bytes = bits <= 8 ? 1 : 2
  const n = raw.length / bytes
  const plane = n / components
  const out: SampleArray = bits <= 8 ? new Uint8Array(n) : (signed ? new Int16Array(n) : new Uint16Array(n))
  const shift = 32 - bits
  for (let i = 0; i < n; i++) {
    let v = bytes === 1 ? raw[i] : raw.readUInt16LE(2 * i)
    if (signed) v = (v << shift) >> shift
    const c = Math.floor(i / plane)
    out[(i % plane) * components + c] = v
  }
  return out
}
