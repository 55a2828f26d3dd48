#!/usr/bin/env node
// Makes the project's own test data under fixtures/: small input files from the deterministic
// generators of src/examples, and the known-answer vectors (golden.json) that tests assert.
//   node scripts/make-fixtures.mjs          write fixtures/ anew (after a deliberate format change)
//   node scripts/make-fixtures.mjs --check  exit 1 if what the code makes now differs from fixtures/
// Runs on the compiled code: `npm run build` first.
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import 'promise.withresolvers/auto'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = p => import(join(root, 'dist', 'src', p))
const { gradientImage, patternImage, sheppLoganVolume, writeExamples } = await dist('examples/index.js')
const { encodePng, writeNifti } = await dist('formats/index.js')
const { encodeHTJ2K, getDefaultPool } = await dist('codec/index.js')
const { buildImageDag, buildDatasetDag } = await dist('chunker/index.js')
const { publish } = await dist('publish/index.js')
const { Repo } = await dist('repo/index.js')

const check = process.argv.includes('--check')
const out = check ? await mkdtemp(join(tmpdir(), 'mist-fixtures-')) : join(root, 'fixtures')

// 1. input files
await mkdir(join(out, 'images', 'phantom'), { recursive: true })
await writeFile(join(out, 'images', 'gradient-300x200-u12.png'), encodePng(gradientImage()))
await writeFile(join(out, 'images', 'pattern-64x64-u8.png'), encodePng(patternImage()))
const phantom = sheppLoganVolume({ size: 64, slices: 8 })
await writeNifti(join(out, 'images', 'phantom', 'phantom-64x64x8-i16.nii.gz'), phantom.meta, phantom.slices)

// 2. known answers
const dag = async (image, decompositions, meta, options) => {
  const built = await buildImageDag(await encodeHTJ2K(image, { decompositions }), image, meta, options)
  return { root: built.root.toString(), bytes: built.levels.map(l => l.bytes) }
}
const scratch = await mkdtemp(join(tmpdir(), 'mist-fixtures-scratch-'))
const published = async paths => {
  const repo = await Repo.open({ path: join(scratch, `repo-${Math.random().toString(36).slice(2)}`), create: true })
  try {
    const result = await publish(paths, { repo })
    if (result.failures.length > 0) throw new Error(`publish failed: ${JSON.stringify(result.failures)}`)
    // the version-1 root of the same entries (what releases before format version 2 wrote): readers still take it
    const v1 = await buildDatasetDag(result.items.map(i => ({ name: i.name, root: i.root, kind: i.kind, levels: i.levels })))
    return {
      root: result.root.toString(),
      entries: Object.fromEntries(result.items.map(i => [i.name, i.root.toString()])),
      levelDirs: result.directories.dirs.map(String),
      rootV1: v1.root.toString()
    }
  } finally { await repo.close() }
}
await writeExamples(join(scratch, 'examples'))
const golden = {
  comment: 'Known answers: they change only with docs/FORMAT.md\'s version or the encoder\'s output. Made by scripts/make-fixtures.mjs.',
  dags: {
    gradient: await dag(gradientImage(), 5, { sourceFormat: 'synthetic' }),
    pattern: await dag(patternImage(), 3, { sourceFormat: 'synthetic', spacing: [0.5, 0.5] }),
    gradientUngrouped: await dag(gradientImage(), 5, { sourceFormat: 'synthetic' }, { groupBytes: 0 })
  },
  examplesDataset: (await published([join(scratch, 'examples')])).root,
  fixturesDataset: await published([join(out, 'images')])
}
await writeFile(join(out, 'golden.json'), JSON.stringify(golden, null, 2) + '\n')
await rm(scratch, { recursive: true, force: true })
await getDefaultPool().close()

if (check) {
  const differ = []
  const walk = async dir => (await readdir(dir, { recursive: true, withFileTypes: true })).filter(e => e.isFile()).map(e => relative(dir, join(e.parentPath, e.name))).sort()
  const made = await walk(out)
  const committed = (await walk(join(root, 'fixtures'))).filter(f => f !== 'README.md')
  for (const f of new Set([...made, ...committed])) {
    const a = await readFile(join(out, f)).catch(() => null)
    const b = await readFile(join(root, 'fixtures', f)).catch(() => null)
    if (a == null || b == null || Buffer.compare(a, b) !== 0) differ.push(f)
  }
  await rm(out, { recursive: true, force: true })
  if (differ.length > 0) {
    console.error(`make-fixtures --check: what the code makes now differs from fixtures/ in ${differ.join(', ')}; if the change is deliberate, run node scripts/make-fixtures.mjs and say why in the commit`)
    process.exit(1)
  }
  console.log(`make-fixtures --check: fixtures/ is what the code makes (${made.length} files)`)
}
