/** encodeNpy output read back by numpy.load: dtype, shape and values. */
import { describe, it, expect } from 'vitest'
import { execFileSync } from 'node:child_process'
import { mkdtemp, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createHash } from 'node:crypto'
import { encodeNpy } from '../../../src/formats/index.js'
import type { RasterImage } from '../../../src/types.js'
import { PYTHON_NIBABEL } from '../../helpers/env.js'

const LOAD = `
import sys, json, hashlib, numpy as np
out = []
for p in sys.argv[1:]:
    a = np.load(p)
    out.append({"dtype": a.dtype.str, "shape": list(a.shape), "sha": hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()})
print(json.dumps(out))
`

describe.skipIf(PYTHON_NIBABEL == null)('encodeNpy', () => {
  it('numpy.load reads images and volumes with the source dtype and shape', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'mist-npy-'))
    const ct: RasterImage[] = [0, 1, 2].map(z => ({ width: 5, height: 4, components: 1, bitsStored: 16, signed: true, data: Int16Array.from({ length: 20 }, (_, i) => (i - 10) * 300 + z) }))
    const rgb: RasterImage = { width: 3, height: 2, components: 3, bitsStored: 8, signed: false, data: Uint8Array.from({ length: 18 }, (_, i) => i * 13) }
    const u12: RasterImage = { width: 7, height: 1, components: 1, bitsStored: 12, signed: false, data: Uint16Array.from([0, 1, 4095, 2048, 7, 9, 100]) }
    const cases: Array<[string, Uint8Array, string, number[], Buffer]> = [
      ['ct.npy', encodeNpy(ct), '<i2', [3, 4, 5], Buffer.concat(ct.map(s => Buffer.from(s.data.buffer)))],
      ['rgb.npy', encodeNpy(rgb), '|u1', [2, 3, 3], Buffer.from(rgb.data.buffer)],
      ['u12.npy', encodeNpy(u12), '<u2', [1, 7], Buffer.from(u12.data.buffer)]
    ]
    for (const [name, bytes] of cases) await writeFile(join(dir, name), bytes)
    const refs = JSON.parse(execFileSync(PYTHON_NIBABEL as string, ['-c', LOAD, ...cases.map(c => join(dir, c[0]))], { encoding: 'utf8' })) as Array<{ dtype: string, shape: number[], sha: string }>
    cases.forEach(([name, , dtype, shape, raw], i) => {
      expect(refs[i].dtype, name).toBe(dtype)
      expect(refs[i].shape, name).toEqual(shape)
      expect(refs[i].sha, name).toBe(createHash('sha256').update(raw).digest('hex'))
    })
    expect(() => encodeNpy([ct[0], rgb])).toThrow(/slice 1 does not match/)
  })
})
