import type { CID } from 'multiformats/cid'
import { abortOnSignals, printJson } from '../common.js'
import { withMist, type StoreOptions } from '../store.js'
import { formatBytes } from '../progress.js'

/** `mist-p2p info <cid>`: what a root holds and what each level costs, read from the root alone. */
export async function infoCommand (cidText: string, options: StoreOptions): Promise<number> {
  // a CID, or a name <peer-id|alias>/<name> resolved once the repo (and its peers) are open
  let cid!: CID
  let path: string | undefined
  const { signal, dispose } = abortOnSignals()
  try {
    const found = await withMist(options, 'info', async mist => { ({ cid, path } = await mist.target(cidText, { signal })); return await mist.info(cid, { signal, path }) })
    const root: any = found.root
    // a dataset's level directories as plain CID strings (`ipfs ls /ipfs/<dir>` browses level k)
    const levels: Array<{ level: number, width?: number, height?: number, bytes: number, images?: number, dir?: string }> = root.levels.map((l: any) => l.dir != null ? { ...l, dir: l.dir.toString() } : l)
    const summary: Record<string, unknown> = { root: found.cid.toString(), ...(path != null ? { dataset: cid.toString(), entry: path } : {}), kind: found.kind, rootBytes: found.bytes }
    if (found.kind === 'image') {
      Object.assign(summary, { width: root.width, height: root.height, components: root.components, bitsStored: root.bitsStored, signed: root.signed, meta: root.meta })
    } else if (found.kind === 'volume') {
      Object.assign(summary, { meta: root.meta, slices: root.meta?.dims?.[2] })
    } else {
      Object.assign(summary, { entries: root.count, version: root.version })
    }
    summary.levels = levels
    if (options.json === true) {
      printJson(summary)
      return 0
    }
    const out: string[] = [`${found.cid}  ${found.kind}${path != null ? `  (${path} in ${cid})` : ''}`]
    if (found.kind === 'image') out.push(`  ${root.width}x${root.height}, ${root.components} component(s), ${root.bitsStored}-bit ${root.signed ? 'signed' : 'unsigned'}, source ${root.meta?.sourceFormat ?? '?'}${root.meta?.modality != null ? `, ${root.meta.modality}` : ''}`)
    if (found.kind === 'volume') out.push(`  ${root.meta.dims.join('x')} ${root.meta.dtype}, spacing ${root.meta.spacing.join(' x ')} mm, source ${root.meta.sourceFormat}`)
    if (found.kind === 'dataset') out.push(`  ${root.count} entries`)
    const full = levels[levels.length - 1]?.bytes ?? 0
    out.push('  level  size          bytes        of full')
    for (const l of levels) {
      const size = l.width != null ? `${l.width}x${l.height}` : (l.images != null ? `${l.images} images` : '')
      out.push(`  ${String(l.level).padStart(5)}  ${size.padEnd(12)}  ${formatBytes(l.bytes).padStart(11)}  ${full > 0 ? ((100 * l.bytes) / full).toFixed(2).padStart(6) : '     -'} %${l.dir != null ? `  /ipfs/${l.dir}` : ''}`)
    }
    if (found.kind === 'dataset' && root.version === 1) out.push('  (a version-1 dataset: no browsable level directories; publish it again to get them)')
    process.stdout.write(out.join('\n') + '\n')
    return 0
  } finally {
    dispose()
  }
}
