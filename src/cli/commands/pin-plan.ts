import { UsageError } from '../../errors.js'
import type { LevelSelection } from '../../level/index.js'
import { abortOnSignals, parseCid, printJson } from '../common.js'
import { formatBytes } from '../progress.js'
import { withMist, type StoreOptions } from '../store.js'

/**
 * `mist-p2p pin-plan <cid> [--level K | --size PX] [--only recursive|direct]`: what an IPFS
 * fleet pins to hold levels 0..K. Default output is one `recursive <cid>` / `direct <cid>`
 * line per pin; `--only` prints bare CIDs for `ipfs pin add` (which reads them from stdin).
 */
export async function pinPlanCommand (cidText: string, options: StoreOptions & LevelSelection & { only?: string }): Promise<number> {
  const cid = parseCid(cidText)
  if (options.only != null && options.only !== 'recursive' && options.only !== 'direct') throw new UsageError(`--only must be "recursive" or "direct", got "${options.only}"`)
  const { signal, dispose } = abortOnSignals()
  try {
    const plan = await withMist(options, 'pin-plan', async mist => mist.pinPlan(cid, { level: options.level, size: options.size, signal }))
    if (options.json === true) {
      printJson(plan)
      return 0
    }
    if (options.only === 'recursive') process.stdout.write(plan.recursive.map(c => `${c}\n`).join(''))
    else if (options.only === 'direct') process.stdout.write(plan.direct.map(c => `${c}\n`).join(''))
    else process.stdout.write([...plan.recursive.map(c => `recursive ${c}\n`), ...plan.direct.map(c => `direct ${c}\n`)].join(''))
    process.stderr.write(`${plan.images} image(s): ${plan.recursive.length} recursive pins (level files${plan.dirs.length > 0 ? ` and the level directories 0..${plan.dirs.length - 1}` : ''}, ${formatBytes(plan.leafBytes)} of leaves), ${plan.direct.length} direct pins (${formatBytes(plan.directBytes)} of roots and index)\n`)
    return 0
  } finally {
    dispose()
  }
}
