import { abortOnSignals, printJson } from '../common.js'
import { formatBytes } from '../progress.js'
import { withMist, type StoreOptions } from '../store.js'

/** `mist-p2p catalog [--peer ADDR]`: the named datasets this node and its connected members offer. */
export async function catalogCommand (options: StoreOptions): Promise<number> {
  const { signal, dispose } = abortOnSignals()
  try {
    const c = await withMist(options, 'catalog', async mist => mist.catalog({ signal }))
    for (const why of c.refused) process.stderr.write(`warning: ${why}\n`)
    if (options.json === true) { printJson(c); return 0 }
    if (c.entries.length === 0) { process.stdout.write('no named dataset is offered by this node or the connected members\n'); return 0 }
    const out: string[] = []
    for (const e of c.entries) {
      out.push(`${e.name}  sequence ${e.seq}  -> ${e.root}${e.entries != null ? `  (${e.entries} entries)` : e.kind != null ? `  (${e.kind})` : ''}`)
      if (e.description != null) out.push(`  ${e.description}`)
      if (e.levels != null) out.push(`  levels: ${e.levels.map(l => `${l.level}: ${formatBytes(l.bytes)}`).join(', ')}`)
      if (e.error != null) out.push(`  root not readable: ${e.error}`)
      out.push(`  held by: ${e.holders.length === 0 ? 'no connected member' : e.holders.map(h => `${h.peer} (${h.levels === 'full' ? 'full' : `0..${h.levels}`})`).join(', ')}`)
    }
    process.stdout.write(out.join('\n') + '\n')
    return 0
  } finally {
    dispose()
  }
}
