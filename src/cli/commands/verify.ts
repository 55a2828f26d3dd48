import type { LevelSelection } from '../../level/index.js'
import type { CID } from 'multiformats/cid'
import { abortOnSignals, printJson } from '../common.js'
import { formatBytes } from '../progress.js'
import { withMist, type StoreOptions } from '../store.js'

/**
 * `mist-p2p verify <cid> [--level K | --size PX] [--peer ADDR]`: checks that every block the
 * level needs is present and hashes to its CID, and that every level of every image decodes to
 * the size its root states. Lists every problem; exit code 1 if there is any.
 */
export async function verifyCommand (cidText: string, options: StoreOptions & LevelSelection & { include?: string[], exclude?: string[], dropCorrupt?: boolean }): Promise<number> {
  // a CID, or a name <peer-id|alias>/<name> resolved once the repo (and its peers) are open
  let cid!: CID
  let path: string | undefined
  const { signal, dispose } = abortOnSignals()
  try {
    const result = await withMist(options, 'verify', async mist => { ({ cid, path } = await mist.target(cidText, { signal })); return await mist.verify(cid, { level: options.level, size: options.size, path, include: options.include, exclude: options.exclude, dropCorrupt: options.dropCorrupt, signal }) })
    if (options.json === true) {
      printJson(result)
    } else {
      for (const p of result.problems) {
        const where = [p.name, p.level != null ? `level ${p.level}` : undefined, p.block != null ? `block ${p.block}` : undefined].filter(x => x != null).join(', ')
        process.stdout.write(`${p.kind.toUpperCase()}  ${where}\n  ${p.error}: ${p.message}\n`)
      }
      const summary = `${cid} (${result.kind}): ${result.images} image(s), ${result.blocks} blocks (${formatBytes(result.bytes)}) checked, ${result.levelsDecoded} level(s) decoded`
      if (result.ok) process.stdout.write(`ok  ${summary}\n`)
      else {
        const dropped = result.dropped != null ? `; ${result.dropped} corrupt block(s) removed from the repo` : ''
        const corrupt = result.dropped != null || !result.problems.some(p => p.kind === 'corrupt') ? '' : `; remove corrupt blocks first with \`mist-p2p verify ${cidText} --drop-corrupt\``
        process.stdout.write(`FAILED  ${summary}; ${result.problems.length} problem(s)${dropped}. Missing blocks can be fetched with \`mist-p2p mirror ${cid} --peer ADDR\`${corrupt}.\n`)
      }
    }
    return result.ok ? 0 : 1
  } finally {
    dispose()
  }
}
