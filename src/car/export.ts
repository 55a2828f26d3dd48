import { createWriteStream } from 'node:fs'
import { mkdir, rename, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { randomBytes } from 'node:crypto'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import { CarWriter } from '@ipld/car'
import type { CID } from 'multiformats/cid'
import type { BlockSource } from '../repo/index.js'
import { walkLevel } from '../level/blocks.js'
import type { LevelSelection } from '../level/select.js'
import type { OperationOptions, ProgressEvent } from '../types.js'
import { chooseCarRoots, type CarRoots } from './roots.js'

export interface ExportCarOptions extends LevelSelection, OperationOptions<ProgressEvent<'car:block', { bytes: number }>> {}

/**
 * Writes a CARv1 file with exactly the blocks that a level of `cid` needs (each once):
 * the roots and index nodes (the mist root first), the leaves of levels 0..K, the shared
 * EOC leaf and the UnixFS level files of levels 0..K, so any IPFS implementation can
 * import it and cat each level, and `mist-p2p import` restores a mirror of that level.
 * The header declares roots whose DAGs are complete in the file (`chooseCarRoots`), so an
 * importer that pins them (Kubo's default) needs nothing else. The file appears under its
 * name only when complete.
 */
export async function exportCar (source: BlockSource, cid: CID, path: string, options: ExportCarOptions = {}): Promise<{ blocks: number, bytes: number, roots: string[], layout: CarRoots['layout'] }> {
  await mkdir(dirname(path), { recursive: true })
  const declared = await chooseCarRoots(source, cid, { level: options.level, size: options.size, signal: options.signal })
  const tmp = `${path}.${randomBytes(6).toString('hex')}.tmp`
  const { writer, out } = CarWriter.create(declared.roots)
  const written = pipeline(Readable.from(out), createWriteStream(tmp))
  let blocks = 0
  let bytes = 0
  try {
    await walkLevel(source, cid, async block => {
      const data = await source.get(block.cid, { signal: options.signal })
      await writer.put({ cid: block.cid, bytes: data })
      blocks++
      bytes += data.byteLength
      options.onProgress?.({ type: 'car:block', detail: { bytes: data.byteLength } })
    }, { level: options.level, size: options.size, signal: options.signal, levelFiles: true, concurrency: 1 })
    await writer.close()
    await written
    await rename(tmp, path)
    return { blocks, bytes, roots: declared.roots.map(r => r.toString()), layout: declared.layout }
  } catch (err) {
    await writer.close().catch(() => {})
    await written.catch(() => {})
    await rm(tmp, { force: true })
    throw err
  }
}
