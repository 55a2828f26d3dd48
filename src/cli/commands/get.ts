import { retrieve, type OutputFormat, type LevelSelection } from '../../retrieve/index.js'
import { abortOnSignals, parseCid, printJson, withRepo, type CommonOptions } from '../common.js'
import { createProgress, formatBytes } from '../progress.js'

export interface GetCommandOptions extends CommonOptions, LevelSelection {
  output?: string
  format?: OutputFormat
}

/** `mist-p2p get <cid> [--level K | --size PX] [-o OUT] [--format png|nii|j2c]` */
export async function getCommand (cidText: string, options: GetCommandOptions): Promise<number> {
  const cid = parseCid(cidText)
  const { signal, dispose } = abortOnSignals()
  const progress = createProgress('fetching', 'bytes', options.json !== true)
  try {
    const result = await withRepo(options, 'get', async repo => retrieve(repo, cid, {
      level: options.level,
      size: options.size,
      out: options.output,
      format: options.format,
      signal,
      onProgress: event => {
        if (event.type === 'retrieve:planned') progress.addTotal(event.detail.bytes)
        if (event.type === 'retrieve:bytes') progress.increment(event.detail.bytes)
      }
    }))
    progress.stop()
    if (options.json === true) {
      printJson(result)
    } else {
      for (const out of result.outputs) {
        process.stdout.write(`${out.paths.length === 1 ? out.paths[0] : `${out.paths.length} files under ${out.paths[0]}…`}  level ${out.level} ${out.width}x${out.height}  ${formatBytes(out.bytes)}\n`)
      }
      for (const failure of result.failures) process.stderr.write(`failed: ${failure.error.name}: ${failure.error.message}\n`)
      const total = result.outputs.reduce((n, o) => n + o.bytes, 0)
      process.stdout.write(`wrote ${result.outputs.length} output(s) from ${formatBytes(total)} of blocks${result.failures.length > 0 ? `, ${result.failures.length} failed` : ''}\n`)
    }
    return result.failures.length > 0 ? 1 : 0
  } finally {
    progress.stop()
    dispose()
  }
}
