/**
 * 1-bit DICOM (BitsAllocated 1, bit-packed frames, as segmentation masks are
 * stored) unpacks to one 0/1 sample per pixel, equal to pydicom's pixel_array.
 */
import { execFileSync } from 'node:child_process'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readInput } from '../../../src/formats/index.js'
import { unpackBits } from '../../../src/formats/dicom/pixels.js'
import { PYTHON_NIBABEL, REAL_FIXTURES } from '../../helpers/env.js'

describe('1-bit DICOM', () => {
  it('unpacks least significant bit first, frames not byte-aligned', () => {
    const bytes = Uint8Array.from([0b10100101, 0b00000011])
    expect([...unpackBits(bytes, 5, 0)!]).toEqual([1, 0, 1, 0, 0])
    expect([...unpackBits(bytes, 5, 1)!]).toEqual([1, 0, 1, 1, 1])
    expect(unpackBits(bytes, 5, 3)).toBeUndefined()
  })

  it.skipIf(REAL_FIXTURES == null || PYTHON_NIBABEL == null)('liver.dcm: three 512x512 mask frames equal pydicom\'s', async () => {
    const path = join(REAL_FIXTURES as string, 'github-pydicom-data/liver.dcm')
    const item = await readInput(path)
    if (item.kind !== 'volume') throw new Error('expected a multi-frame volume')
    expect(item.meta.dims).toEqual([512, 512, 3])
    const ref = execFileSync(PYTHON_NIBABEL as string, ['-c', 'import sys, pydicom, numpy as np; sys.stdout.buffer.write(pydicom.dcmread(sys.argv[1]).pixel_array.astype(np.uint8).tobytes())', path], { maxBuffer: 1 << 24 })
    const ours: Buffer[] = []
    for await (const s of item.slices()) {
      expect([s.bitsStored, s.signed, s.data.constructor.name]).toEqual([1, false, 'Uint8Array'])
      ours.push(Buffer.from(s.data.buffer, s.data.byteOffset, s.data.byteLength))
    }
    const all = Buffer.concat(ours)
    expect(Buffer.compare(all, ref)).toBe(0)
    expect(all.some(v => v === 1)).toBe(true)
  })
})
