import { abortOnSignals, parseCid, printJson } from '../common.js'
import { formatBytes } from '../progress.js'
import { withMist, type StoreOptions } from '../store.js'

/** `mist-p2p diff <old> <new>`: entries added (+), removed (-) and changed (~), then what a mirror of each level fetches. */
export async function diffCommand (oldText: string, newText: string, options: StoreOptions): Promise<number> {
  const a = parseCid(oldText)
  const b = parseCid(newText)
  const { signal, dispose } = abortOnSignals()
  try {
    const d = await withMist(options, 'diff', async mist => mist.diff(a, b, { signal }))
    if (options.json === true) { printJson(d); return 0 }
    const lines: string[] = []
    for (const e of d.added) lines.push(`+ ${e.name}`)
    for (const e of d.removed) lines.push(`- ${e.name}`)
    for (const e of d.changed) lines.push(`~ ${e.name}`)
    lines.sort((x, y) => x.slice(2) < y.slice(2) ? -1 : x.slice(2) > y.slice(2) ? 1 : 0)
    lines.push(`${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed (${d.indexReads.old + d.indexReads.new} index nodes read)`)
    lines.push('a mirror of level K fetches:', '  level  blocks        bytes')
    for (const l of d.levels) lines.push(`  ${String(l.level).padStart(5)}  ${String(l.blocks).padStart(6)}  ${formatBytes(l.bytes).padStart(11)}`)
    process.stdout.write(lines.join('\n') + '\n')
    return 0
  } finally {
    dispose()
  }
}
