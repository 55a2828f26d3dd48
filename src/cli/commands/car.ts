import { resolve } from 'node:path'
import type { LevelSelection } from '../../level/index.js'
import { abortOnSignals, parseCid, printJson } from '../common.js'
import { createProgress, formatBytes } from '../progress.js'
import { withMist, type StoreOptions } from '../store.js'

/** `mist-p2p export <cid> [--level K | --size PX] -o FILE.car` */
export async function exportCommand (cidText: string, options: StoreOptions & LevelSelection & { output: string }): Promise<number> {
  const cid = parseCid(cidText)
  const { signal, dispose } = abortOnSignals()
  const progress = createProgress('exporting', 'bytes', options.json !== true)
  try {
    const out = resolve(options.output)
    const result = await withMist(options, 'export', async mist => mist.export(cid, out, {
      level: options.level, size: options.size, signal, onProgress: e => { progress.addTotal(e.detail.bytes); progress.increment(e.detail.bytes) }
    }))
    progress.stop()
    if (options.json === true) printJson({ root: cid.toString(), car: out, ...result })
    else process.stdout.write(`wrote ${out}: ${result.blocks} blocks, ${formatBytes(result.bytes)}; declared roots: ${result.layout === 'root' ? `the root ${cid} (its whole DAG)` : result.layout === 'level-dirs' ? `the dataset's level directories 0..${result.roots.length - 1} (ipfs ls /ipfs/${result.roots[result.roots.length - 1]})` : `${result.roots.length} level file(s)`}\n`)
    return 0
  } finally {
    progress.stop()
    dispose()
  }
}

/** `mist-p2p import FILE.car`: verify and load the blocks; pin complete roots, record partial ones as mirrors. */
export async function importCommand (file: string, options: StoreOptions): Promise<number> {
  const { signal, dispose } = abortOnSignals()
  try {
    const result = await withMist({ ...options, create: true }, 'import', async mist => mist.import(resolve(file), { signal }))
    if (options.json === true) printJson(result)
    else {
      process.stdout.write(`imported ${result.blocks} blocks (${result.freshBlocks} new), ${formatBytes(result.bytes)}\n`)
      if (result.roots.length === 0) process.stdout.write(`no mist-p2p root in ${file} (declared roots: ${result.carRoots.slice(0, 5).join(', ')}${result.carRoots.length > 5 ? `, … ${result.carRoots.length} in all` : ''}); its blocks are stored\n`)
      for (const r of result.roots) process.stdout.write(`root ${r.root}: ${r.level === 'full' ? 'complete, pinned' : r.level == null ? 'incomplete (no whole level)' : `complete up to level ${r.level}`}\n`)
    }
    return 0
  } finally {
    dispose()
  }
}
