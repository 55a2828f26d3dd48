import { spawn } from 'node:child_process'
import { mkdtemp, rm, mkdir } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { CID } from 'multiformats/cid'
import { writeExamples } from '../../examples/index.js'
import { readInput } from '../../formats/index.js'
import { generateSwarmKey, loadOrCreateIdentity, writeSwarmKey, swarmKeyPath } from '../../node/index.js'
import { publish } from '../../publish/index.js'
import { Repo } from '../../repo/index.js'
import type { RasterImage } from '../../types.js'
import { abortOnSignals, printJson } from '../common.js'
import { formatBytes } from '../progress.js'
import { withMist } from '../store.js'

const BIN = fileURLToPath(new URL('../../../../bin/mist-p2p.js', import.meta.url))

/**
 * `mist-p2p demo`: the newcomer's first run. Generates the built-in examples (a Shepp–Logan
 * phantom volume and a 12-bit radiograph), publishes them into a seeder's repo, starts the
 * seeder as a separate `mist-p2p serve` process on 127.0.0.1, and has a getter with the same
 * private-network key fetch a 64 px level and then the full level over the network. Prints
 * the bytes moved against the full size and checks the full level against the source pixels.
 */
export async function demoCommand (options: { keep?: string, json?: boolean }): Promise<number> {
  const { signal, dispose } = abortOnSignals()
  const base = options.keep != null ? resolve(options.keep) : await mkdtemp(join(tmpdir(), 'mist-p2p-demo-'))
  const log = (line: string): void => { if (options.json !== true) process.stdout.write(line + '\n') }
  let seeder: ReturnType<typeof spawn> | undefined
  try {
    const inputs = join(base, 'examples')
    await mkdir(inputs, { recursive: true })
    const files = await writeExamples(inputs)
    log(`1. example data written to ${inputs}: ${files.map(f => f.slice(inputs.length + 1)).join(', ')}`)

    // two repos of one consortium: same swarm key, their own identities
    const seederRepo = join(base, 'seeder')
    const getterRepo = join(base, 'getter')
    const key = generateSwarmKey()
    for (const path of [seederRepo, getterRepo]) {
      const repo = await Repo.open({ path, create: true, command: 'demo' })
      await loadOrCreateIdentity(path)
      await writeSwarmKey(path, key)
      await repo.close()
    }
    const repo = await Repo.open({ path: seederRepo, command: 'demo' })
    let root: CID
    try {
      const published = await publish([inputs], { repo, signal })
      if (published.failures.length > 0 || published.root == null) {
        for (const f of published.failures) process.stderr.write(`failed: ${f.error.message}\n`)
        return 1
      }
      root = published.root
      log(`2. published into ${seederRepo}: dataset ${root}`)
      for (const item of published.items) {
        log(`   ${item.name}: ${item.kind}${item.kind === 'volume' ? ` of ${item.images} slices` : ''}, levels ${item.levels.map(l => `${l.width}x${l.height} ${formatBytes(l.bytes)}`).join(' | ')}`)
      }
    } finally {
      await repo.close()
    }

    // the seeder: a separate process
    seeder = spawn(process.execPath, [BIN, 'serve', '--repo', seederRepo, '--listen', '/ip4/127.0.0.1/tcp/0', '--json'], { stdio: ['ignore', 'pipe', 'inherit'] })
    const addr = await new Promise<string>((resolveAddr, reject) => {
      let out = ''
      seeder?.stdout?.on('data', d => {
        out += d
        try { resolveAddr(JSON.parse(out).multiaddrs[0]) } catch {}
      })
      seeder?.on('close', code => { reject(new Error(`the seeder exited (${code}) before listening`)) })
    })
    log(`3. seeder serving at ${addr} (private network: swarm key ${swarmKeyPath(seederRepo)})`)

    const report = await withMist({ repo: getterRepo, peer: [addr] }, 'demo', async mist => {
      const found = await mist.info(root, { signal })
      const levels = found.root.levels as Array<{ level: number, bytes: number }>
      const fullBytes = levels[levels.length - 1].bytes
      const low = (await mist.get(root, { size: 64, out: join(base, 'out-64px'), signal })).fetched ?? { freshBytes: 0 }
      log(`4. getter fetched the 64 px level: ${formatBytes(low.freshBytes)} moved = ${((100 * low.freshBytes) / fullBytes).toFixed(1)} % of the full ${formatBytes(fullBytes)} -> ${join(base, 'out-64px')}`)
      const whole = await mist.get(root, { level: 'full', out: join(base, 'out-full'), signal })
      const full = whole.fetched ?? { freshBytes: 0 }
      log(`5. getter fetched the full level: ${formatBytes(full.freshBytes)} more moved (the 64 px blocks are reused), ${formatBytes(low.freshBytes + full.freshBytes)} in all -> ${join(base, 'out-full')}`)
      let exact = true
      for (const o of whole.outputs) {
        const same = await samePixels(join(inputs, o.name), o.paths[0])
        exact &&= same
        log(`   ${o.name}: ${same ? 'bit-exact with the source' : 'DIFFERS from the source'}`)
      }
      return { root: root.toString(), fullBytes, lowBytesMoved: low.freshBytes, fullBytesMoved: full.freshBytes, bitExact: exact }
    })
    if (options.json === true) printJson(report)
    else log(`\nall full levels bit-exact: ${report.bitExact ? 'yes' : 'NO'}${options.keep != null ? `; files kept in ${base}` : ''}`)
    return report.bitExact ? 0 : 1
  } finally {
    if (seeder != null && seeder.exitCode == null) {
      const closed = new Promise(resolveClose => seeder?.once('close', resolveClose))
      seeder.kill('SIGTERM')
      await closed
    }
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
