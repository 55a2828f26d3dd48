import type { Holding } from '../../gc/index.js'
import { abortOnSignals, printJson } from '../common.js'
import { formatBytes } from '../progress.js'
import { withMist, type StoreOptions } from '../store.js'

function levelsText (h: Holding): string {
  if (h.levels === 'full') return 'full'
  if (typeof h.levels === 'number') return `0..${h.levels}`
  return `${h.levels.size} px`
}

/** `mist-p2p ls`: the roots the repo keeps (pins and mirror records), the levels held and their bytes. */
export async function lsCommand (options: StoreOptions): Promise<number> {
  const { signal, dispose } = abortOnSignals()
  try {
    const holdings = await withMist({ ...options, network: false }, 'ls', async mist => mist.ls({ signal }))
    if (options.json === true) { printJson(holdings); return 0 }
    if (holdings.length === 0) { process.stdout.write('nothing pinned or mirrored\n'); return 0 }
    const rows = holdings.map(h => {
      const kept = h.pinned ? 'pin' : 'mirror'
      const subset = h.mirror != null && (h.mirror.path != null || h.mirror.include != null || h.mirror.exclude != null) ? ' (some entries)' : ''
      const what = h.error != null ? `MISSING: ${h.error}` : `${h.kind}${h.entries != null ? `, ${h.entries} ${h.kind === 'volume' ? 'slices' : 'entries'}` : ''}, levels ${levelsText(h)} of ${h.levelCount}${subset}${h.bytes != null ? `, ${formatBytes(h.bytes)}` : ''}`
      return `${h.root}  ${kept.padEnd(6)}  ${what}${h.names != null ? `  (${h.names.join(', ')})` : ''}`
    })
    process.stdout.write(rows.join('\n') + '\n')
    return 0
  } finally {
    dispose()
  }
}
