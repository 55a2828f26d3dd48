/**
 * 2. Bytes on the wire per level, for single images: a getter process (`mist-p2p get --level K
 * --format j2c`, fresh repo each time) counts the TCP payload bytes it read (socket.bytesRead,
 * see hooks/meter.ts: pnet + noise + yamux + bitswap framing and the dataset/root/DAG nodes
 * included; IP/TCP headers not). Against: the level's codestream prefix (+EOC), the full
 * codestream, a Cornerstone-style client reading the J2C with fixed 64 KiB HTTP Range requests
 * until it holds the prefix, and a plain HTTP download of the whole J2C and of the original file.
 */
import { copyFile, mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { writeFile } from 'node:fs/promises'
import { encodePng } from '../src/formats/index.js'
import { realFiles, syntheticRadiograph } from './data.js'
import { BIN, Daemon, PROCS, median, mist, runNode, type Ctx } from './lib.js'

export async function runWire (ctx: Ctx): Promise<any> {
  const dir = join(ctx.dir, 'wire')
  const files = join(dir, 'files')
  await mkdir(files, { recursive: true })
  const inputs: Array<{ name: string, path: string }> = []
  const synth = join(files, 'synthetic-512-12bit.png')
  await writeFile(synth, encodePng(syntheticRadiograph(512, 512, 11)))
  inputs.push({ name: 'synthetic 512x512 12-bit', path: synth })
  const real = realFiles(ctx.quick)
  for (const m of ctx.quick ? ['CT'] : ['CT', 'CR', 'MR']) {
    const f = real.find(x => x.modality === m && x.category === 'DICOM' && !/JPH|j2k|jpeg/i.test(x.path))
    if (f == null) continue
    const p = join(files, `${m}-${f.path.split('/').pop()}`)
    await copyFile(f.path, p)
    inputs.push({ name: `${m} ${f.path.split('/').pop()}`, path: p })
  }
  const seeder = join(dir, 'seeder')
  await mist(['init', '--repo', seeder, '--json'])
  const getterTemplate = join(dir, 'getter-template')
  await mist(['init', '--repo', getterTemplate, '--swarm-key', join(seeder, 'swarm.key'), '--json'])
  const images: any[] = []
  for (const input of inputs) {
    const pub = await mist(['publish', input.path, '--repo', seeder, '--json'], { allowFail: true })
    const doc = JSON.parse(pub.stdout)
    if (doc.root == null || doc.images[0].kind !== 'image') continue
    const info = JSON.parse((await mist(['info', doc.root, '--repo', seeder, '--json'])).stdout)
    const j2c = join(files, `${images.length}.j2c`)
    await mist(['get', doc.root, '--level', 'full', '--format', 'j2c', '-o', j2c, '--repo', seeder])
    images.push({ ...input, root: doc.root, levels: info.levels, rootBytes: info.rootBytes, j2c, j2cName: `${images.length}.j2c`, originalName: input.path.split('/').pop() })
  }
  const serve = new Daemon(BIN, ['serve', '--repo', seeder, '--listen', '/ip4/127.0.0.1/tcp/0', '--json'])
  const http = new Daemon(join(PROCS, 'http-server.js'), ['--dir', files, '--host', '127.0.0.1'])
  try {
    const addr = (await serve.ready).multiaddrs[0]
    const url = (await http.ready).url
    const range = async (name: string, until: number, chunk: number): Promise<{ wire: number, requests: number }> => {
      const r = await runNode(join(PROCS, 'http-get.js'), ['range', '--url', `${url}/${encodeURIComponent(name)}`, '--until', String(until), '--chunk', String(chunk)], { meterDir: dir })
      if (r.code !== 0) throw new Error(r.stderr)
      return { wire: r.meter!.tcpBytesRead, requests: JSON.parse(r.stdout).requests }
    }
    for (const img of images) {
      const full = img.levels[img.levels.length - 1].bytes
      const fullJ2c = await range(img.j2cName, Infinity, 0)
      const original = await range(img.originalName, Infinity, 0)
      img.fullJ2cWire = fullJ2c.wire
      img.originalWire = original.wire
      img.rows = []
      for (const lv of img.levels) {
        const wires: number[] = []
        for (let rep = 0; rep < 1; rep++) {
          const g = join(dir, `g-${rep}`)
          await rm(g, { recursive: true, force: true })
          await (await import('node:fs/promises')).cp(getterTemplate, g, { recursive: true })
          const r = await mist(['get', img.root, '--level', String(lv.level), '--format', 'j2c', '-o', join(dir, 'out.j2c'), '--force', '--repo', g, '--peer', addr], { meterDir: dir })
          wires.push(r.meter!.tcpBytesRead)
        }
        const wire = median(wires)
        const rg = await range(img.j2cName, lv.bytes - 2, 65536)
        img.rows.push({
          level: lv.level, width: lv.width, height: lv.height, codestream: lv.bytes, wire,
          overhead: wire / lv.bytes, overheadBytes: wire - lv.bytes, shareOfFull: lv.bytes / full, wireVsFull: wire / full,
          range64k: rg.wire, rangeRequests: rg.requests, vsRange: wire / rg.wire, vsFullJ2c: wire / fullJ2c.wire, vsOriginal: wire / original.wire
        })
      }
      ctx.log(`  ${img.name}: ${img.rows.map((r: any) => `L${r.level} x${r.overhead.toFixed(3)}`).join(' ')}`)
    }
  } finally {
    await serve.stop(); await http.stop()
  }
  return { images: images.map(i => ({ name: i.name, root: i.root, rootBytes: i.rootBytes, fullJ2cWire: i.fullJ2cWire, originalWire: i.originalWire, rows: i.rows })) }
}
