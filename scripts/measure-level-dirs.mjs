#!/usr/bin/env node
// What the per-level UnixFS directories of a dataset cost (docs/FORMAT.md section 6): builds
// them for N entries of one small image (names like a DICOM archive's, ~40 bytes, in folders
// of F entries; F = N gives one flat, sharded folder) and prints blocks, bytes, time and heap.
//   npm run build && node scripts/measure-level-dirs.mjs [N=100000] [F=100]
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import 'promise.withresolvers/auto'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const dist = p => import(join(root, 'dist', 'src', p))
const { buildImageDag } = await dist('chunker/index.js')
const { encodeHTJ2K, getDefaultPool } = await dist('codec/index.js')
const { patternImage } = await dist('examples/index.js')
const { buildDatasetDirectories } = await dist('publish/dataset-dirs.js')

const n = Number(process.argv[2] ?? 100_000)
const perFolder = Number(process.argv[3] ?? 100)
const image = patternImage()
const dag = await buildImageDag(await encodeHTJ2K(image, { decompositions: 3 }), image, { sourceFormat: 'synthetic' }, { groupBytes: 0 })
const blocks = new Map(dag.blocks.map(b => [b.cid.toString(), b.bytes]))
const source = { get: async c => blocks.get(c.toString()), has: async c => blocks.has(c.toString()) }
const name = i => `subject-${String(Math.floor(i / perFolder)).padStart(6, '0')}/image-${String(i).padStart(7, '0')}.dcm`
const entries = Array.from({ length: n }, (_, i) => ({ name: name(i), root: dag.root, kind: 'image' }))
let made = 0
let largest = 0
const started = performance.now()
const result = await buildDatasetDirectories(source, entries, dag.levels.length, { put: async b => { made++; largest = Math.max(largest, b.bytes.byteLength) } })
const ms = performance.now() - started
const levels = dag.levels.length
const s = result.stats
console.log(`${n} entries (~${name(0).length}-byte names, ${perFolder} per folder) x ${levels} levels: ${s.blocks} directory blocks (${s.sharded} sharded directories), ${s.bytes} B = ${(s.bytes / (n * levels)).toFixed(1)} B per entry per level; largest block ${largest} B; built in ${(ms / 1000).toFixed(1)} s; heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MiB, RSS ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB`)
await getDefaultPool().close()
