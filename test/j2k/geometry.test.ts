/** Reference-grid geometry of src/j2k: exact at 32-bit sizes, where shifts would overflow. */
import { describe, expect, it } from 'vitest'
import { MAX_DECOMPOSITIONS, ceilShift, levelExtent, tileGrid } from '../../src/j2k/index.js'

describe('geometry', () => {
  it('ceilShift is ceil(a / 2^r), also for a >= 2^31 and r = 32', () => {
    expect([ceilShift(0, 3), ceilShift(1, 3), ceilShift(8, 3), ceilShift(9, 3), ceilShift(7, 0)]).toEqual([0, 1, 1, 2, 7])
    expect(ceilShift(2 ** 32 - 1, 1)).toBe(2 ** 31)
    expect(ceilShift(2 ** 32 - 1, 32)).toBe(1)
    expect(ceilShift(2 ** 32 - 1, MAX_DECOMPOSITIONS)).toBe(1)
  })
  it('levelExtent: ceil(end / 2^r) - ceil(origin / 2^r) with r = D - level', () => {
    expect([0, 1, 2, 3].map((k) => levelExtent(64, 0, 3, k))).toEqual([8, 16, 32, 64])
    expect([0, 1, 2].map((k) => levelExtent(33, 0, 2, k))).toEqual([9, 17, 33])
    expect(levelExtent(20, 16, 5, 0)).toBe(0) // origin 16 on a 20-high grid: the coarsest level is empty
    expect(levelExtent(52, 3, 3, 0)).toBe(6) // 49 rows from row 3, not ceil(49 / 8) = 7
  })
  it('tileGrid counts tiles from the tile origin', () => {
    expect(tileGrid({ xsiz: 64, ysiz: 48, xt: 64, yt: 48, xt0: 0, yt0: 0 })).toEqual({ x: 1, y: 1 })
    expect(tileGrid({ xsiz: 128, ysiz: 128, xt: 64, yt: 64, xt0: 0, yt0: 0 })).toEqual({ x: 2, y: 2 })
    expect(tileGrid({ xsiz: 4096, ysiz: 4096, xt: 17, yt: 17, xt0: 0, yt0: 0 })).toEqual({ x: 241, y: 241 })
    expect(tileGrid({ xsiz: 100, ysiz: 10, xt: 50, yt: 10, xt0: 1, yt0: 0 })).toEqual({ x: 2, y: 1 })
  })
})
