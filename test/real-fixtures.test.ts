/**
 * Every file of ../shared/fixtures/real (MIST_REAL_FIXTURES): published into a real repo,
 * fetched back at the full level bit-exact against the reader's pixels (the readers are
 * checked against pydicom and nibabel in test/formats-*.test.ts), every level of every
 * image equal to OpenJPEG's decode of the published level file, or refused with a
 * specific reason. Prints a table of file, format, result.
 */
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeImageRoot, decodeVolumeRoot, volumeSlices } from '../src/chunker/index.js'
import { readInput } from '../src/formats/index.js'
import { publish, type PublishResult } from '../src/publish/index.js'
import { Repo } from '../src/repo/index.js'
import { decodeImageLevel, fetchLevelCodestream, getImage, getVolume } from '../src/retrieve/index.js'
import type { RasterImage } from '../src/types.js'
import type { CID } from 'multiformats/cid'
import { OPJ_DECOMPRESS, REAL_FIXTURES } from './helpers/env.js'
import { bytesOf, opjDecode } from './helpers/opj.js'
import { tempDir } from './helpers/tmp.js'

interface Row { path: string, format: string, result: string }

describe.skipIf(REAL_FIXTURES == null)('real fixtures', () => {
  let cleanup: () => Promise<void>
  let repo: Repo
  let manifest: Array<{ path: string, format: string }>
  let published: PublishResult
  const rows: Row[] = []

  beforeAll(async () => {
    const t = await tempDir('mist-real-')
    cleanup = t.cleanup
    const text = await readFile(join(REAL_FIXTURES as string, 'MANIFEST.tsv'), 'utf8')
    const [header, ...lines] = text.trim().split('\n')
    const cols = header.split('\t')
    manifest = lines.map(l => { const f = l.split('\t'); return { path: f[cols.indexOf('path')], format: f[cols.indexOf('format')] } })
    repo = await Repo.open({ path: join(t.dir, 'repo'), create: true })
    published = await publish(manifest.map(m => join(REAL_FIXTURES as string, m.path)), { repo })
  }, 600_000)

  afterAll(async () => {
    await repo?.close()
    await cleanup?.()
    if (rows.length > 0) {
      const w = Math.max(...rows.map(r => r.path.length))
      console.log(['file'.padEnd(w) + '  format / result', ...rows.map(r => `${r.path.padEnd(w)}  ${r.format}  ${r.result}`)].join('\n'))
    }
  })

  it('publishes every file or refuses it with a specific reason', () => {
    const byPath = new Map(published.items.map(i => [i.path, i]))
    const failed = new Map(published.failures.map(f => [f.path, f]))
    for (const m of manifest) {
      const full = join(REAL_FIXTURES as string, m.path)
      const item = byPath.get(full)
      const failure = failed.get(full)
      rows.push({ path: m.path, format: m.format.slice(0, 48), result: item != null ? `published ${item.kind} (${item.images} image${item.images > 1 ? 's' : ''})` : `refused: ${failure?.error.name}: ${failure?.error.message.slice(full.length + 2)}` })
      expect(item != null || failure != null).toBe(true)
      // a refusal is a specific, expected one: never a crash or a generic error
      if (failure != null) expect(['UnsupportedInputError', 'InvalidInputError', 'CodecError']).toContain(failure.error.name)
    }
    expect(published.items.length).toBeGreaterThanOrEqual(140)
  })

  it('gives back every published image bit-exact at the full level', async () => {
    for (const item of published.items) {
      const input = await readInput(item.path)
      if (input.kind === 'image') {
        expect(item.kind).toBe('image')
        const got = await getImage(repo, item.root, { level: 'full' })
        expect(sameSamples(got.image, input.image), item.path).toBe(true)
      } else {
        const got = await getVolume(repo, item.root, { level: 'full' })
        let z = 0
        for await (const slice of input.slices()) {
          expect(sameSamples(got.slices[z], slice), `${item.path} slice ${z}`).toBe(true)
          z++
        }
        expect(z).toBe(got.slices.length)
      }
    }
  }, 600_000)

  it.skipIf(OPJ_DECOMPRESS == null)('every level equals OpenJPEG\'s decode of the published level file', async () => {
    let checked = 0
    for (const item of published.items) {
      let cid: CID = item.root
      if (item.kind === 'volume') {
        // the middle slice of each volume
        const vroot = decodeVolumeRoot(await repo.get(item.root), item.root)
        const slices: CID[] = []
        for await (const s of volumeSlices(vroot, async c => repo.get(c))) slices.push(s)
        cid = slices[Math.floor(slices.length / 2)]
      }
      const root = decodeImageRoot(await repo.get(cid), cid)
      const D = root.codestream.decompositions
      for (const l of root.levels) {
        const codestream = await fetchLevelCodestream(repo, cid, root, l.level)
        const ours = await decodeImageLevel(repo, cid, root, l.level)
        const decodedLike = { components: root.components, bitsStored: ours.image.bitsStored <= 8 && root.signed ? 9 : root.codestream.bitDepth, signed: root.codestream.signed }
        const theirs = await opjDecode(codestream, D - l.level, decodedLike)
        const oursWide = widen(ours.image, decodedLike)
        expect(Buffer.compare(bytesOf(theirs), bytesOf(oursWide)), `${item.path} level ${l.level}`).toBe(0)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(200)
  }, 600_000)
})

function sameSamples (a: RasterImage, b: RasterImage): boolean {
  return a.width === b.width && a.height === b.height && a.components === b.components && a.data.length === b.data.length &&
    Buffer.compare(bytesOf(a.data), bytesOf(b.data)) === 0
}

/** Our level in the sample container OpenJPEG's raw output is unpacked into. */
function widen (image: RasterImage, like: { bitsStored: number, signed: boolean }): RasterImage['data'] {
  if (like.bitsStored <= 8) return image.data instanceof Uint8Array ? image.data : Uint8Array.from(image.data)
  const out = like.signed ? new Int16Array(image.data.length) : new Uint16Array(image.data.length)
  out.set(image.data)
  return out
}
