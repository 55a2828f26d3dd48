import { abortOnSignals, JsonList, printJsonPaced, type CommonOptions } from '../common.js'
import { withMist } from '../store.js'
import { createProgress, formatBytes } from '../progress.js'
import { cidText } from '../../util/cid-key.js'
import type { LevelSummary, PublishedItem } from '../../publish/index.js'
import type { ValueMapping } from '../../types.js'

export interface PublishCommandOptions extends CommonOptions {
  decompositions?: number
  quantize?: boolean
  keepText?: boolean
  followSymlinks?: boolean
}

/** `mist-p2p publish <path...>`: exit code 0 when every file was published, 1 if any failed. */
export async function publishCommand (paths: string[], options: PublishCommandOptions): Promise<number> {
  const { signal, dispose } = abortOnSignals()
  const progress = createProgress('publishing', 'files', options.json !== true)
  try {
    const result = await withMist({ ...options, create: true, network: false }, 'publish', async mist => mist.publish(paths, {
      signal,
      decompositions: options.decompositions,
      quantize: options.quantize === true,
      keepText: options.keepText === true,
      followSymlinks: options.followSymlinks === true,
      keepItems: false,
      onProgress: event => {
        if (event.type === 'publish:start') progress.addTotal(event.detail.files)
        if (event.type === 'publish:file') progress.increment(1)
      }
    }))
    progress.stop()
    const list = result.list
    // one item at a time from the packed list: an archive's items are never all objects at once
    const images = function * (): Generator<ReturnType<typeof describeItem>> {
      for (const item of list) yield describeItem(item)
    }
    if (options.json === true) {
      await printJsonPaced({ root: result.root?.toString() ?? null, images: new JsonList(list.length, images), failures: result.failures, warnings: result.warnings, skipped: result.skipped, bytesWritten: result.bytesWritten, ...(result.directories != null ? { directories: { ...result.directories, dirs: result.directories.dirs.map(d => d.toString()) } } : {}) })
    } else {
      let count = 0
      for (const item of images()) {
        const full = item.levels[item.levels.length - 1]
        const coarse = item.levels[0]
        process.stdout.write(`${item.root}  ${item.name}  ${item.kind === 'volume' ? `${item.images} slices, ` : ''}${full.width}x${full.height} ${formatBytes(full.bytes)}, ${item.levels.length} levels down to ${coarse.width}x${coarse.height} ${formatBytes(coarse.bytes)}${describeMapping(item)}\n`)
        count += item.images
      }
      for (const failure of result.failures) process.stderr.write(`failed: ${failure.error.name}: ${failure.error.message}\n`)
      for (const warning of result.warnings) process.stderr.write(`warning: ${warning.message}\n`)
      for (const entry of result.skipped) process.stderr.write(`skipped: ${entry.path}: ${entry.reason}\n`)
      process.stdout.write(`published ${list.length} file(s) (${count} images), ${result.failures.length} failed, ${result.skipped.length} skipped, ${formatBytes(result.bytesWritten)} new blocks\n`)
      if (result.root != null) process.stdout.write(`root ${result.root}\n`)
    }
    return result.failures.length > 0 || result.root == null ? 1 : 0
  } finally {
    progress.stop()
    dispose()
  }
}

/** An item as `publish --json` lists it. */
function describeItem (item: PublishedItem): { path: string, name: string, kind: 'image' | 'volume', root: string, images: number, levels: LevelSummary[], files?: number, lossySource?: boolean, valueMapping?: ValueMapping, maxAbsError?: number } {
  return {
    path: item.path,
    name: item.name,
    kind: item.kind,
    root: cidText(item.root),
    images: item.images,
    levels: item.levels,
    ...(item.files != null ? { files: item.files } : {}),
    ...(item.lossySource === true ? { lossySource: true } : {}),
    ...(item.valueMapping != null ? { valueMapping: item.valueMapping, maxAbsError: item.valueMapping.maxAbsError } : {})
  }
}

/** ", quantized from float32: max error 0.0012" / ", float32 mapped exactly to 16 bits" / "" */
function describeMapping (item: { valueMapping?: { dtype: string, maxAbsError: number }, lossySource?: boolean, files?: number }): string {
  let out = item.files != null ? `, series of ${item.files} files` : ''
  const m = item.valueMapping
  if (m != null) out += m.maxAbsError > 0 ? `, quantized from ${m.dtype}: max error ${m.maxAbsError.toPrecision(6)}` : `, ${m.dtype} mapped exactly to 16 bits`
  if (item.lossySource === true) out += ', lossy source'
  return out
}
