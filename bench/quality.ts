/**
 * 5. Quality of the reduced levels and lossless round trips. Each level image (decoded with the
 * product codec at reduce r) is compared with two references built from the original:
 *  - box: the area average of each 2^r x 2^r block starting at pixel 2^r·n (what a user's
 *    downsampler gives; its sample sits at the block centre 2^r·n + (2^r-1)/2);
 *  - aligned: the average of the 2^r x 2^r window centred on pixel 2^r·n, where the 5/3 LL sample
 *    n sits (the LL filter is symmetric about the even sample), i.e. the box phase-shifted by
 *    half a block.
 * PSNR uses the image's range (max - min of the original) as peak; SSIM is mean SSIM over 8x8
 * windows. Bit-exact: the full level decoded equals the source samples, over every image read.
 */
import { CodecPool, defaultDecompositions } from '../src/codec/index.js'
import { readInputs } from '../src/formats/index.js'
import type { RasterImage } from '../src/types.js'
import { realFiles, syntheticRadiograph } from './data.js'
import { boxDown, boxDownAligned, median, psnr, ssim, type Ctx } from './lib.js'

const SAMPLE_SLICES = 3

export async function runQuality (ctx: Ctx): Promise<any> {
  const pool = new CodecPool({ size: 2 })
  const per: Array<{ modality: string, r: number, psnrBox: number, psnrAligned: number, ssimBox: number, ssimAligned: number }> = []
  let images = 0; let exact = 0; const mismatches: string[] = []
  const check = async (modality: string, name: string, img: RasterImage, measure: boolean): Promise<void> => {
    const cs = await pool.encode(img)
    const full = await pool.decode(cs)
    images++
    const same = full.data.length === img.data.length && full.data.every((v: number, i: number) => v === img.data[i])
    if (same) exact++; else mismatches.push(name)
    if (!measure || img.components !== 1) return
    let lo = Infinity; let hi = -Infinity
    for (let i = 0; i < img.data.length; i++) { const v = img.data[i]; if (v < lo) lo = v; if (v > hi) hi = v }
    const peak = Math.max(1, hi - lo)
    const D = defaultDecompositions(img.width, img.height)
    for (let r = 1; r <= Math.min(D, 4); r++) {
      const lv = await pool.decode(cs, { reduce: r })
      const f = 2 ** r
      const box = boxDown(img.data, img.width, img.height, f)
      const al = boxDownAligned(img.data, img.width, img.height, f)
      if (box.width !== lv.width || box.height !== lv.height) continue
      per.push({ modality, r, psnrBox: psnr(lv.data, box.data, peak), psnrAligned: psnr(lv.data, al.data, peak), ssimBox: ssim(lv.data, box.data, lv.width, lv.height, peak), ssimAligned: ssim(lv.data, al.data, lv.width, lv.height, peak) })
    }
  }
  try {
    for (const f of realFiles(ctx.quick)) {
      let items
      try { items = await readInputs(f.path) } catch { continue }
      for (const item of items) {
        const slices: RasterImage[] = []
        if (item.kind === 'image') slices.push(item.image)
        else for await (const s of item.slices()) slices.push(s)
        const step = Math.max(1, Math.ceil(slices.length / SAMPLE_SLICES))
        for (const [z, s] of slices.entries()) {
          try { await check(f.modality, `${f.path.split('/').pop()}#${z}`, s, z % step === 0) } catch (err: any) { mismatches.push(`${f.path}#${z}: ${err?.message ?? err}`) }
        }
      }
    }
    for (let i = 0; i < (ctx.quick ? 2 : 8); i++) await check('synthetic', `synthetic-${i}`, syntheticRadiograph(512, 512, 300 + i), true)
  } finally {
    await pool.close()
  }
  const groups = new Map<string, typeof per>()
  for (const p of per) { const k = `${p.modality}|${p.r}`; groups.set(k, [...(groups.get(k) ?? []), p]) }
  const rows = [...groups.entries()].map(([k, ps]) => {
    const [modality, r] = k.split('|')
    const fin = (xs: number[]): number[] => xs.map(x => Number.isFinite(x) ? x : 99)
    return { modality, reduce: Number(r), factor: 2 ** Number(r), n: ps.length, psnrBox: median(fin(ps.map(p => p.psnrBox))), psnrAligned: median(fin(ps.map(p => p.psnrAligned))), ssimBox: median(ps.map(p => p.ssimBox)), ssimAligned: median(ps.map(p => p.ssimAligned)) }
  }).sort((a, b) => a.modality.localeCompare(b.modality) || a.reduce - b.reduce)
  return { rows, roundTrip: { images, bitExact: exact, mismatches: mismatches.slice(0, 20) } }
}
