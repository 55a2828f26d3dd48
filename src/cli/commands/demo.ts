import { mkdtemp, rm, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { writeExamples } from '../../examples/index.js'
import { readInput } from '../../formats/index.js'
import { publish } from '../../publish/index.js'
import { Repo } from '../../repo/index.js'
import { retrieve, stripImageExtension } from '../../retrieve/index.js'
import type { RasterImage } from '../../types.js'
import { abortOnSignals, printJson } from '../common.js'
import { formatBytes } from '../progress.js'

/**
 * `mist-p2p demo`: the newcomer's first run. Generates the built-in examples (a Shepp–Logan
 * phantom volume and a 16-bit radiograph), publishes them into a scratch repo, fetches a
 * low level and the full level of each, checks the full level against the source pixels,
 * and prints what each level costs against the full size.
 */
export async function demoCommand (options: { keep?: string, json?: boolean }): Promise<number> {
  const { signal, dispose } = abortOnSignals()
  const base = options.keep != null ? resolve(options.keep) : await mkdtemp(join(tmpdir(), 'mist-p2p-demo-'))
  const log = (line: string): void => { if (options.json !== true) process.stdout.write(line + '\n') }
  try {
    const inputs = join(base, 'examples')
    const outputs = join(base, 'out')
    await mkdir(inputs, { recursive: true })
    const files = await writeExamples(inputs)
    log(`example data written to ${inputs}: ${files.map(f => f.slice(inputs.length + 1)).join(', ')}`)
    const repo = await Repo.open({ path: join(base, 'repo'), create: true, command: 'demo' })
    const report: any[] = []
    let exact = true
    try {
      const published = await publish([inputs], { repo, signal })
      if (published.failures.length > 0 || published.root == null) {
        for (const f of published.failures) process.stderr.write(`failed: ${f.error.message}\n`)
        return 1
      }
      log(`published dataset ${published.root} (${formatBytes(published.bytesWritten)} of blocks)`)
      for (const item of published.items) {
        const full = item.levels[item.levels.length - 1]
        log(`\n${item.name}: ${item.kind}${item.kind === 'volume' ? ` of ${item.images} slices` : ''}, root ${item.root}`)
        log('  level  size        bytes moved   of full')
        for (const l of item.levels) log(`  ${String(l.level).padStart(5)}  ${`${l.width}x${l.height}`.padEnd(10)}  ${formatBytes(l.bytes).padStart(11)}  ${((100 * l.bytes) / full.bytes).toFixed(2).padStart(6)} %`)
        const low = await retrieve(repo, item.root, { size: 64, out: join(outputs, `${stripImageExtension(item.name)}-64px${item.kind === 'volume' ? '.nii' : '.png'}`), signal })
        const whole = await retrieve(repo, item.root, { level: 'full', out: join(outputs, `${stripImageExtension(item.name)}-full${item.kind === 'volume' ? '.nii' : '.png'}`), signal })
        const same = await samePixels(files.find(f => f.endsWith(item.name)) as string, whole.outputs[0].paths[0])
        exact &&= same
        log(`  fetched level ${low.outputs[0].level} (${low.outputs[0].width}x${low.outputs[0].height}): ${formatBytes(low.outputs[0].bytes)} = ${((100 * low.outputs[0].bytes) / full.bytes).toFixed(2)} % of the full ${formatBytes(full.bytes)} -> ${low.outputs[0].paths[0]}`)
        log(`  fetched full level: ${whole.outputs[0].paths[0]}, ${same ? 'bit-exact with the source' : 'DIFFERS from the source'}`)
        report.push({ name: item.name, root: item.root.toString(), levels: item.levels, low: low.outputs[0], full: whole.outputs[0], bitExact: same })
      }
      if (options.json === true) printJson({ root: published.root.toString(), items: report, bitExact: exact })
      else log(`\nall full levels bit-exact: ${exact ? 'yes' : 'NO'}${options.keep != null ? `; files kept in ${base}` : ''}`)
    } finally {
      await repo.close()
    }
    return exact ? 0 : 1
  } finally {
    dispose()
    if (options.keep == null) await rm(base, { recursive: true, force: true })
  }
}

async function samePixels (source: string, output: string): Promise<boolean> {
  const [a, b] = await Promise.all([pixels(source), pixels(output)])
  if (a.length !== b.length) return false
  return a.every((img, i) => img.width === b[i].width && img.height === b[i].height &&
    Buffer.compare(Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), Buffer.from(b[i].data.buffer, b[i].data.byteOffset, b[i].data.byteLength)) === 0)
}

async function pixels (path: string): Promise<RasterImage[]> {
  const input = await readInput(path)
  if (input.kind === 'image') return [input.image]
  const out: RasterImage[] = []
  for await (const s of input.slices()) out.push(s)
  return out
}
