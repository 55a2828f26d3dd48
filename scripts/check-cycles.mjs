#!/usr/bin/env node
// Fails when the folders under src/ import each other in a cycle (type-only imports count too:
// a cycle of types is still a cycle of concepts). Prints each cycle with one import that makes it.
// Usage: node scripts/check-cycles.mjs [srcDir]
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const src = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..', 'src'))

function * files (dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) yield * files(path)
    else if (/\.(ts|mts|js|mjs)$/.test(name) && !name.endsWith('.d.ts')) yield path
  }
}

/** The top-level folder of src a file belongs to ('.' for files directly in src). */
const folderOf = path => {
  const rel = relative(src, path).split(sep)
  return rel.length > 1 ? rel[0] : '.'
}

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"`;]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)|new URL\(\s*['"](\.[^'"]+)['"]\s*,\s*import\.meta\.url/g
const edges = new Map() // folder -> Map(folder -> example "file -> spec")
for (const file of files(src)) {
  const text = readFileSync(file, 'utf8')
  const from = folderOf(file)
  for (const m of text.matchAll(IMPORT)) {
    const spec = m[1] ?? m[2] ?? m[3]
    if (!spec.startsWith('.')) continue
    const to = folderOf(resolve(dirname(file), spec))
    if (to === from || to === '.' || from === '.') continue // the entry points (src/*.ts) may import every folder
    if (!edges.has(from)) edges.set(from, new Map())
    if (!edges.get(from).has(to)) edges.get(from).set(to, `${relative(src, file)} -> ${spec}`)
  }
}

// strongly connected components (Tarjan): any component of more than one folder is a cycle
let index = 0
const idx = new Map(); const low = new Map(); const stack = []; const on = new Set(); const cycles = []
const visit = v => {
  idx.set(v, index); low.set(v, index); index++; stack.push(v); on.add(v)
  for (const w of edges.get(v)?.keys() ?? []) {
    if (!idx.has(w)) { visit(w); low.set(v, Math.min(low.get(v), low.get(w))) } else if (on.has(w)) low.set(v, Math.min(low.get(v), idx.get(w)))
  }
  if (low.get(v) === idx.get(v)) {
    const comp = []
    let w
    do { w = stack.pop(); on.delete(w); comp.push(w) } while (w !== v)
    if (comp.length > 1) cycles.push(comp.sort())
  }
}
for (const v of edges.keys()) if (!idx.has(v)) visit(v)

if (cycles.length === 0) {
  const n = [...edges.values()].reduce((a, m) => a + m.size, 0)
  console.log(`check-cycles: no cycle between the folders of ${relative(process.cwd(), src) || '.'} (${edges.size} folders, ${n} folder dependencies)`)
  process.exit(0)
}
for (const comp of cycles) {
  console.error(`cycle between folders: ${comp.join(', ')}`)
  for (const a of comp) for (const [b, example] of edges.get(a) ?? []) if (comp.includes(b)) console.error(`  ${a} -> ${b}: ${example}`)
}
process.exit(1)
