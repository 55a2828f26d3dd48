/**
 * Every file of ../shared/fixtures/real (MIST_REAL_FIXTURES): published into a real repo,
 * fetched back at the full level bit-exact against the reader's pixels (the readers are
 * checked against pydicom and nibabel in test/formats-*.test.ts), every level of every
 * image equal to OpenJPEG's decode of the published level file, or refused with a
 * specific reason. Prints a table of file, format, result. No patient name, ID, birth
 * date or institution of any DICOM fixture (read with pydicom) is in any published block.
 */
import * as dagCbor from '@ipld/dag-cbor'
import * as dagPb from '@ipld/dag-pb'
import { execFile } from 'node:child_process'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { decodeImageRoot, decodeVolumeRoot, volumeSlices } from '../../src/chunker/index.js'
import { readInputs } from '../../src/formats/index.js'
import { publish, type PublishResult } from '../../src/publish/index.js'
import { Repo } from '../../src/repo/index.js'
import { planImageLevel, readLevelCodestream } from '../../src/level/index.js'
import { decodeImageLevel, getImage, getVolume } from '../../src/retrieve/index.js'
import type { RasterImage } from '../../src/types.js'
import type { CID } from 'multiformats/cid'
import { OPJ_DECOMPRESS, PYTHON_NIBABEL, REAL_FIXTURES } from '../helpers/env.js'
import { bytesOf, opjDecode } from '../helpers/opj.js'
import { tempDir } from '../helpers/tmp.js'

interface Row { path: string, format: string, result: string }

describe.skipIf(REAL_FIXTURES == null)('real fixtures', () => {
  let cleanup: () => Promise<void>
  let repo: Repo
  let repoDir: string
  let manifest: Array<{ path: string, format: string, category: string }>
  let published: PublishResult
  const rows: Row[] = []

  beforeAll(async () => {
    const t = await tempDir('mist-real-')
    cleanup = t.cleanup
    const text = await readFile(join(REAL_FIXTURES as string, 'MANIFEST.tsv'), 'utf8')
    const [header, ...lines] = text.trim().split('\n')
    const cols = header.split('\t')
    manifest = lines.map(l => { const f = l.split('\t'); return { path: f[cols.indexOf('path')], format: f[cols.indexOf('format')], category: f[cols.indexOf('category')] } })
    repoDir = join(t.dir, 'repo')
    repo = await Repo.open({ path: repoDir, create: true })
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
    // a file may give several items (an enhanced multi-frame file with two volumes: name#t0, name#t1)
    const byPath = new Map(published.items.map(i => [i.path, i]))
    const failed = new Map(published.failures.map(f => [f.path, f]))
    for (const m of manifest) {
      const full = join(REAL_FIXTURES as string, m.path)
      const item = byPath.get(full)
      const failure = failed.get(full)
      rows.push({ path: m.path, format: m.format.slice(0, 48), result: item != null ? `published ${item.kind} (${item.images} image${item.images > 1 ? 's' : ''})` : `refused: ${failure?.error.name}: ${failure?.error.message.startsWith(full) ? failure.error.message.slice(full.length).replace(/^:? */, '') : failure?.error.message}` })
      expect(item != null || failure != null).toBe(true)
      // a refusal is a specific, expected one: never a crash or a generic error
      if (failure != null) expect(['UnsupportedInputError', 'InvalidInputError', 'CodecError']).toContain(failure.error.name)
    }
    expect(published.items.length).toBeGreaterThanOrEqual(140)
  })

  it('gives back every published image bit-exact at the full level', async () => {
    for (const item of published.items) {
      // an enhanced multi-frame file with several volumes is published as `file#tN`, one per volume
      const inputs = await readInputs(item.path)
      const t = /#t(\d+)$/.exec(item.name)
      const input = inputs[t != null && inputs.length > 1 ? Number(t[1]) : 0]
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

  it.skipIf(OPJ_DECOMPRESS == null)('the coarsest, the full and a middle level (a different one from item to item) equal OpenJPEG\'s decode of the full codestream at that reduction, and of the level file', async () => {
    let checked = 0
    const levelsSeen = new Set<string>()
    const itemsPerD = new Map<number, number>()
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
      const nth = itemsPerD.get(D) ?? 0
      itemsPerD.set(D, nth + 1)
      // OpenJPEG decodes the FULL codestream at each reduction, and also the published level file
      const full = await readLevelCodestream(repo, planImageLevel(cid, root, D))
      // not every level of every image (two OpenJPEG processes per level made this the suite's
      // longest test): the middle level rotates among images of the same depth, so each level is still checked
      const sampled = new Set([0, D, Math.min(D, 1 + nth % Math.max(1, D - 1))])
      for (const l of root.levels.filter(l => sampled.has(l.level))) {
        levelsSeen.add(`${D}/${l.level}`)
        const ours = await decodeImageLevel(repo, planImageLevel(cid, root, l.level))
        const decodedLike = { components: root.components, bitsStored: ours.image.bitsStored <= 8 && root.signed ? 9 : root.codestream.bitDepth, signed: root.codestream.signed }
        const oursWide = widen(ours.image, decodedLike)
        // the two OpenJPEG runs are separate processes: side by side
        const [fromFull, fromLevel] = await Promise.all([
          opjDecode(full, D - l.level, decodedLike),
          readLevelCodestream(repo, planImageLevel(cid, root, l.level)).then(async cs => opjDecode(cs, D - l.level, decodedLike))
        ])
        expect(Buffer.compare(bytesOf(fromFull), bytesOf(oursWide)), `${item.path} level ${l.level} vs OpenJPEG on the full codestream`).toBe(0)
        expect(Buffer.compare(bytesOf(fromLevel), bytesOf(oursWide)), `${item.path} level ${l.level} vs OpenJPEG on the level file`).toBe(0)
        checked++
      }
    }
    expect(checked).toBeGreaterThan(200)
    // where a decomposition count is common enough for the rotation to reach them, every level was checked
    for (const [D, n] of itemsPerD) if (n >= D - 1) for (let l = 0; l <= D; l++) expect(levelsSeen.has(`${D}/${l}`), `a level ${l} of ${D} decompositions`).toBe(true)
  }, 600_000)

  it.skipIf(PYTHON_NIBABEL == null)('no patient name, ID, birth date or institution of the DICOM fixtures is in any published block', async () => {
    // the series directory too, published as one volume
    const series = await publish([join(REAL_FIXTURES as string, 'github-TotalSegmentator/example_ct_dicom')], { repo })
    expect(series.items).toHaveLength(1)
    const dicom = manifest.filter(m => m.category === 'DICOM').map(m => join(REAL_FIXTURES as string, m.path))
    const { stdout } = await promisify(execFile)(PYTHON_NIBABEL as string, ['-c', IDENTIFIERS, ...dicom], { maxBuffer: 1 << 24 })
    // a short ID such as "0010" also occurs in public text the roots carry by design: the standard transfer
    // syntax UIDs and the file names the user published (00000100_000.png); those are not searched for
    const standardUids = [...new Set(manifest.map(m => /\b(1\.2\.840\.10008\.[0-9.]+)/.exec(m.format)?.[1]).filter((u): u is string => u != null))]
    expect(standardUids).toContain('1.2.840.10008.1.2.4.202')
    const published = [...standardUids, ...manifest.map(m => m.path.split('/').pop() as string), 'example_ct_dicom']
    const strings = (JSON.parse(stdout) as string[]).filter(s => !published.some(u => u.includes(s))).map(s => ({ text: s, bytes: Buffer.from(s, 'utf8') }))
    expect(strings.length).toBeGreaterThan(50)
    expect(strings.map(s => s.text)).toContain('CompressedSamples^CT1')
    let blocks = 0
    let nodes = 0
    for await (const { cid, bytes: chunks } of repo.blockstore.getAll()) {
      const parts: Uint8Array[] = []
      for await (const c of chunks) parts.push(c)
      const bytes = Buffer.concat(parts)
      const file = cid.toString()
      const node = isNode(bytes)
      blocks++
      if (node) nodes++
      for (const s of strings) {
        // raw codestream bytes are pixels: short strings (dates, 4-letter IDs) and fillers such as
        // XXXXXXXX occur there by chance, so those are searched in DAG nodes only; strings of 8+ bytes
        // with at least 4 different characters are searched everywhere
        if (!node && (s.bytes.length < 8 || new Set(s.text).size < 4)) continue
        expect(bytes.includes(s.bytes), `${JSON.stringify(s.text)} found in block ${file}`).toBe(false)
      }
    }
    expect(nodes).toBeGreaterThan(100)
    expect(blocks).toBeGreaterThan(nodes)
  }, 600_000)
})

const IDENTIFIERS = `
import sys, json, pydicom
found = set()
for p in sys.argv[1:]:
    d = pydicom.dcmread(p, stop_before_pixels=True, force=True)
    for kw in ('PatientName', 'PatientID', 'PatientBirthDate', 'InstitutionName', 'InstitutionAddress', 'ReferringPhysicianName', 'OtherPatientIDs'):
        v = d.get(kw)
        if v is not None and str(v).strip() != '':
            found.add(str(v).strip())
print(json.dumps(sorted(found)))
`

/** Whether the block is a DAG node (dag-cbor root or dag-pb level file), where metadata lives, rather than raw codestream bytes. */
function isNode (bytes: Uint8Array): boolean {
  try { dagCbor.decode(bytes); return true } catch {}
  try { dagPb.decode(bytes); return true } catch {}
  return false
}

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
