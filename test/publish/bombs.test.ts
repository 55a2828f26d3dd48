/**
 * Decompression bombs on publish (issue 16, item 5), through the real CLI in a child process:
 * each hostile file is about a megabyte on disk and declares or inflates to gigabytes. One that
 * exceeds a limit must be refused with a named error before its pixels are inflated; one within
 * the limits (a 768 MiB float volume) is published slice by slice; the good file of the same batch
 * must be published, and the publisher's peak RSS (VmHWM: Buffers and codec threads included)
 * must stay under BOUND. Before the limits, each of these drove publish to 1.3-4 GB.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { writeDeflatedDicomBomb, writeNiftiGzBomb, writePngBomb } from '../helpers/bombs.js'
import { runMeasured } from '../helpers/peak-rss.js'
import { tempDir } from '../helpers/tmp.js'

const MIB = 1024 * 1024
/** The stated bound on a publish of one good file and one bomb (docs/DESIGN.md). */
const BOUND = 640 * MIB

let dir: string
let cleanup: () => Promise<void>

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-bombs-'))
  await writeFile(join(dir, 'good.png'), encodePng(synthesizeImage(256, 256, 12, false, 1, 3)))
}, 60_000)

afterAll(async () => { await cleanup?.() })

const cases: Array<{ name: string, make: (path: string) => Promise<void>, error?: string, message?: RegExp }> = [
  // 23000x23000 zeros: 529 MB of rows (2.1 GB as pngjs's RGBA) from ~0.5 MB
  { name: 'zeros.png', make: async p => writePngBomb(p, 23000), error: 'UnsupportedInputError', message: /more than the 134217728-byte \(128 MiB\) limit/ },
  // a deflated-transfer-syntax data set of 1 GiB from ~1 MB
  { name: 'deflated.dcm', make: async p => writeDeflatedDicomBomb(p, 1024), error: 'UnsupportedInputError', message: /inflates to more than 268435456 bytes/ },
  // one float32 volume of 768 MiB from ~0.8 MB: valid, so it is published, slice by slice (its
  // 16-bit mapping is chosen in a first pass over the slices; before, the volume was held whole)
  { name: 'float.nii.gz', make: async p => writeNiftiGzBomb(p, [512, 512, 768], 16, 4) },
  // one int16 slice of 800 MB from ~0.8 MB
  { name: 'slice.nii.gz', make: async p => writeNiftiGzBomb(p, [20000, 20000], 4, 2), error: 'UnsupportedInputError', message: /more than the 134217728-byte \(128 MiB\) limit/ }
]

describe('publish: decompression bombs are refused before they inflate', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.error != null ? 'refused by name' : 'published'}, the good file of the batch published, peak RSS under ${BOUND / MIB} MiB`, async () => {
      const inputs = join(dir, `in-${c.name}`)
      await mkdir(inputs)
      await writeFile(join(inputs, 'good.png'), encodePng(synthesizeImage(256, 256, 12, false, 1, 3)))
      await c.make(join(inputs, c.name))
      const run = await runMeasured(['publish', inputs, '--repo', join(dir, `repo-${c.name}`), '--json'], { dir, killAbove: 3 * BOUND, timeoutMs: 170_000 })
      console.log(`[bombs] ${c.name}: peak RSS ${(run.peakRss / MIB).toFixed(0)} MiB${run.killedAtRss != null ? ` (killed at ${(run.killedAtRss / MIB).toFixed(0)} MiB)` : ''}`)
      expect(run.killedAtRss, `publish went over ${3 * BOUND / MIB} MiB and was killed`).toBeUndefined()
      const doc = JSON.parse(run.stdout)
      if (c.error != null) {
        expect(run.code, run.stderr).toBe(1) // one file failed
        expect(doc.images.map((i: any) => i.name)).toEqual(['good.png'])
        expect(doc.failures).toHaveLength(1)
        expect(doc.failures[0].path).toBe(join(inputs, c.name))
        expect(doc.failures[0].error.name).toBe(c.error)
        expect(doc.failures[0].error.message).toMatch(c.message as RegExp)
      } else {
        expect(run.code, run.stderr).toBe(0)
        expect(doc.images.map((i: any) => i.name).sort()).toEqual([c.name, 'good.png'])
      }
      expect(run.peakRss).toBeLessThan(BOUND)
    }, 180_000)
  }
})

describe('publish: a compressed DICOM frame whose codestream declares a huge image', () => {
  // defence in depth: libjpeg-turbo refuses this one itself (the unchanged code peaked at 95 MiB), but
  // every third-party decoder allocates for what its codestream declares, before anything is compared
  it('JPEG baseline frame patched to 65000x65000 inside a 512x512 DICOM: refused before the decoder is called, peak RSS under the bound', async (ctx) => {
    const fixtures = process.env.MIST_REAL_FIXTURES
    if (fixtures == null || fixtures === '') { console.warn('[skip] MIST_REAL_FIXTURES is not set: the JPEG frame bomb needs a real JPEG DICOM'); ctx.skip(); return }
    const { readFile } = await import('node:fs/promises')
    const bytes = Buffer.from(await readFile(join(fixtures, 'github-cornerstone3D', 'CTImage_JPEGBaseline50.dcm')))
    // the first SOF0 (FFC0) of the frame: height and width follow the length and the precision
    const sof = bytes.indexOf(Buffer.from([0xff, 0xc0]))
    expect(sof).toBeGreaterThan(0)
    bytes.writeUInt16BE(65000, sof + 5)
    bytes.writeUInt16BE(65000, sof + 7)
    const inputs = join(dir, 'in-jpeg-frame')
    await mkdir(inputs)
    await writeFile(join(inputs, 'good.png'), encodePng(synthesizeImage(256, 256, 12, false, 1, 3)))
    await writeFile(join(inputs, 'frame.dcm'), bytes)
    const run = await runMeasured(['publish', inputs, '--repo', join(dir, 'repo-jpeg-frame'), '--json'], { dir, killAbove: 3 * BOUND })
    console.log(`[bombs] jpeg frame: peak RSS ${(run.peakRss / MIB).toFixed(0)} MiB${run.killedAtRss != null ? ` (killed at ${(run.killedAtRss / MIB).toFixed(0)} MiB)` : ''}`)
    expect(run.killedAtRss).toBeUndefined()
    const doc = JSON.parse(run.stdout)
    expect(doc.images.map((i: any) => i.name)).toEqual(['good.png'])
    expect(doc.failures[0].error.message).toMatch(/codestream declares 65000x65000 but the DICOM header says 512x512; refused before decoding/)
    expect(run.peakRss).toBeLessThan(BOUND)
  }, 180_000)
})
