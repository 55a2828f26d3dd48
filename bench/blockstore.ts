/**
 * `npm run bench -- --blockstores [N]`: the repo's blockstore against embedded key-value stores
 * (issue 12, item 5), its own run. N blocks (default 60,000) shaped like a 128 px archive's
 * (per image: a root, two level-file nodes, leaves of 1, 4 and 16 KiB), random content,
 * written and read as mist-p2p does, in fresh stores:
 * - put: four images at a time, each image's blocks one after another (publish, a getter);
 * - put, one batch per image where the store has batches;
 * - open of the filled store; get of every block in random order, four at a time;
 * - disk bytes (du) and files;
 * - kill -9: a child process writes blocks until it is killed at a random moment; the store is
 *   reopened and every block in it is read and hashed (unreadable or wrong blocks counted).
 * CPU is the whole process's (main thread and libuv/LMDB threads): on 2 cores it is what a
 * store takes from the codec and the network. Writes bench/results/blockstores.json and
 * bench/BLOCKSTORES.md.
 */
import { execFileSync, spawn } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { LevelBlockstore } from 'blockstore-level'
import { open as lmdbOpen } from 'lmdb'
import { CID } from 'multiformats/cid'
import * as Digest from 'multiformats/hashes/digest'
import { MistBlockstore } from '../src/repo/blockstore.js'
import { machine, ROOT, type Ctx } from './lib.js'

const SIZES = [400, 150, 150, 1024, 4096, 16384]

interface Store {
  put: (cid: CID, bytes: Uint8Array) => Promise<unknown>
  putMany?: (blocks: Array<{ cid: CID, bytes: Uint8Array }>) => Promise<unknown>
  get: (cid: CID) => Promise<Uint8Array | undefined>
  keys: () => AsyncIterable<{ cid: CID, bytes: Uint8Array }>
  close: () => Promise<void>
}

const concat = async (it: AsyncIterable<Uint8Array>): Promise<Uint8Array> => {
  const chunks: Uint8Array[] = []
  for await (const c of it) chunks.push(c)
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
}

/** The stores compared; lmdb keys are multihash bytes (what a CID-keyed blockstore needs). */
export const STORES: Record<string, { what: string, open: (dir: string) => Promise<Store> }> = {
  fs: {
    what: 'blockstore-fs layout, one file per block (MistBlockstore: temp file + rename, no fsync) - the current repo',
    open: async (dir) => {
      const s = new MistBlockstore(dir)
      await s.open()
      return {
        put: async (c, b) => s.put(c, b),
        get: async (c) => await concat(s.get(c)).catch(() => undefined),
        keys: async function * () { for await (const { cid } of s.getAll()) yield { cid, bytes: await concat(s.get(cid)) } },
        close: async () => s.close()
      }
    }
  },
  level: {
    what: 'blockstore-level (LevelDB through classic-level; puts not synced)',
    open: async (dir) => {
      const s = new LevelBlockstore(dir)
      await s.open()
      return {
        put: async (c, b) => s.put(c, b),
        putMany: async (blocks) => { for await (const _ of s.putMany(blocks)) { /* drain */ } },
        get: async (c) => await concat(s.get(c) as any).catch(() => undefined),
        keys: async function * () { for await (const { cid, bytes } of s.getAll() as any) yield { cid, bytes: bytes instanceof Uint8Array ? bytes : await concat(bytes) } },
        close: async () => s.close()
      }
    }
  },
  lmdb: {
    what: 'LMDB through the lmdb package, default (durable) commits: a commit is synced to disk',
    open: async (dir) => lmdbStore(dir, false)
  },
  'lmdb-nosync': {
    what: 'LMDB, noSync: commits not synced (survives a killed process, not a power cut)',
    open: async (dir) => lmdbStore(dir, true)
  }
}

async function lmdbStore (dir: string, noSync: boolean): Promise<Store> {
  const db = lmdbOpen({ path: dir, encoding: 'binary', keyEncoding: 'binary', compression: false, noSync })
  const key = (c: CID): Uint8Array => c.multihash.bytes
  return {
    put: async (c, b) => db.put(key(c), b),
    putMany: async (blocks) => db.transaction(() => { for (const b of blocks) void db.put(key(b.cid), b.bytes) }),
    get: async (c) => db.getBinary(key(c)) ?? undefined,
    keys: async function * () {
      for (const { key: k, value } of db.getRange({})) yield { cid: CID.createV1(0x55, Digest.decode(k as Uint8Array)), bytes: value as Uint8Array }
    },
    close: async () => db.close()
  }
}

function makeBlocks (n: number, seed: number): Array<{ cid: CID, bytes: Uint8Array }> {
  const blocks: Array<{ cid: CID, bytes: Uint8Array }> = []
  let state = seed
  for (let i = 0; blocks.length < n; i++) {
    for (const size of SIZES) {
      if (blocks.length >= n) break
      const bytes = new Uint8Array(size)
      // random content (does not compress), deterministic per seed
      for (let j = 0; j < size; j += 4) { state = (state * 1664525 + 1013904223) >>> 0; bytes[j] = state; bytes[j + 1] = state >>> 8; bytes[j + 2] = state >>> 16; bytes[j + 3] = state >>> 24 }
      blocks.push({ cid: CID.createV1(0x55, Digest.create(0x12, createHash('sha256').update(bytes).digest())), bytes })
    }
  }
  return blocks
}

const cpuMs = (): number => { const u = process.cpuUsage(); return (u.user + u.system) / 1000 }

async function measure (store: string, dir: string, blocks: Array<{ cid: CID, bytes: Uint8Array }>, batched: boolean): Promise<Record<string, number>> {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const spec = STORES[store]
  let t = performance.now()
  let c = cpuMs()
  let s = await spec.open(dir)
  let next = 0
  await Promise.all([0, 1, 2, 3].map(async () => {
    for (;;) {
      const i = next
      next += SIZES.length
      if (i >= blocks.length) return
      const image = blocks.slice(i, i + SIZES.length)
      if (batched && s.putMany != null) await s.putMany(image)
      else for (const b of image) await s.put(b.cid, b.bytes)
    }
  }))
  await s.close()
  const put = { ms: performance.now() - t, cpu: cpuMs() - c }
  t = performance.now()
  s = await spec.open(dir)
  const openMs = performance.now() - t
  const order = blocks.map((_, i) => i)
  for (let i = order.length - 1; i > 0; i--) { const j = (i * 2654435761) % (i + 1); [order[i], order[j]] = [order[j], order[i]] }
  t = performance.now()
  c = cpuMs()
  let bad = 0
  next = 0
  await Promise.all([0, 1, 2, 3].map(async () => {
    while (next < order.length) {
      const b = blocks[order[next++]]
      const got = await s.get(b.cid)
      if (got == null || Buffer.compare(Buffer.from(got.buffer, got.byteOffset, got.byteLength), Buffer.from(b.bytes)) !== 0) bad++
    }
  }))
  const get = { ms: performance.now() - t, cpu: cpuMs() - c }
  await s.close()
  const du = Number(execFileSync('du', ['-sk', dir]).toString().split('\t')[0]) * 1024
  const files = (await readdir(dir, { recursive: true, withFileTypes: true })).filter(e => e.isFile()).length
  return {
    putPerS: Math.round(blocks.length / put.ms * 1000),
    putCpuUs: +(put.cpu * 1000 / blocks.length).toFixed(1),
    openMs: +openMs.toFixed(1),
    getPerS: Math.round(blocks.length / get.ms * 1000),
    getCpuUs: +(get.cpu * 1000 / blocks.length).toFixed(1),
    diskBytes: du,
    files,
    wrongReads: bad
  }
}

/** A child writing blocks until killed; then every block the store holds is read and hashed. */
async function killTest (store: string, dir: string, after: number): Promise<Record<string, number | string>> {
  await rm(dir, { recursive: true, force: true })
  await mkdir(dir, { recursive: true })
  const child = spawn(process.execPath, [fileURLToPath(import.meta.url), '--writer', store, dir], { stdio: ['ignore', 'pipe', 'inherit'] })
  let acked = 0
  child.stdout.on('data', (d: Buffer) => { const m = /(\d+)\n$/.exec(d.toString()); if (m != null) acked = Number(m[1]) })
  // killed `after` ms after its first acknowledged round, mid-way through a later one
  const t0 = Date.now()
  while (acked === 0 && Date.now() - t0 < 60_000) await new Promise(resolve => setTimeout(resolve, 20))
  await new Promise(resolve => setTimeout(resolve, after))
  child.kill('SIGKILL')
  await new Promise(resolve => child.once('exit', resolve))
  let held = 0
  let corrupt = 0
  let opened = 'yes'
  try {
    const s = await STORES[store].open(dir)
    for await (const { cid, bytes } of s.keys()) {
      held++
      if (!Buffer.from(createHash('sha256').update(bytes).digest()).equals(Buffer.from(cid.multihash.digest))) corrupt++
    }
    await s.close()
  } catch (err: any) {
    opened = `no: ${err?.message ?? err}`
  }
  const leftovers = (await readdir(dir, { recursive: true })).filter(f => String(f).endsWith('.tmp')).length
  return { killedAfterMs: after, ackedBeforeKill: acked, held, corrupt, opened, tempFilesLeft: leftovers }
}

/** The child of killTest: writes blocks forever, printing how many were acknowledged. */
async function writer (store: string, dir: string): Promise<void> {
  const s = await STORES[store].open(dir)
  for (let round = 0; ; round++) {
    const blocks = makeBlocks(600, 1000 + round)
    for (let i = 0; i < blocks.length; i += SIZES.length) {
      const image = blocks.slice(i, i + SIZES.length)
      if (s.putMany != null) await s.putMany(image)
      else for (const b of image) await s.put(b.cid, b.bytes)
    }
    process.stdout.write(`${(round + 1) * 600}\n`)
  }
}

export async function blockstoresMain (ctx: Ctx, n: number): Promise<string> {
  const blocks = makeBlocks(n, 7)
  const payload = blocks.reduce((t, b) => t + b.bytes.byteLength, 0)
  const rows: Array<Record<string, unknown>> = []
  for (const store of Object.keys(STORES)) {
    for (const batched of [false, true]) {
      if (batched && store === 'fs') continue
      ctx.log(`blockstores: ${store}${batched ? ' (batch per image)' : ''}…`)
      rows.push({ store, writes: batched ? 'batch per image' : 'one put at a time', ...await measure(store, join(ctx.dir, `bs-${store}`), blocks, batched) })
    }
  }
  const kills: Array<Record<string, unknown>> = []
  for (const store of Object.keys(STORES)) {
    for (const after of [333, 1777]) {
      ctx.log(`blockstores: kill -9 of a ${store} writer after ${after} ms…`)
      kills.push({ store, ...await killTest(store, join(ctx.dir, `kill-${store}`), after) })
    }
  }
  const doc = { machine: machine(), started: new Date().toISOString(), command: `npm run bench -- --blockstores ${n}`, blocks: n, payloadBytes: payload, stores: Object.fromEntries(Object.entries(STORES).map(([k, v]) => [k, v.what])), rows, kills }
  await writeFile(join(ROOT, 'bench', 'results', 'blockstores.json'), JSON.stringify(doc, null, 2) + '\n')
  const md = renderBlockstores(doc)
  await writeFile(join(ROOT, 'bench', 'BLOCKSTORES.md'), md)
  return md
}

function renderBlockstores (doc: any): string {
  const mib = (b: number): string => (b / 2 ** 20).toFixed(1)
  const fs = doc.rows.find((r: any) => r.store === 'fs')
  const lines = [
    '# Blockstores side by side',
    '',
    `\`${doc.command}\`, ${doc.started.slice(0, 10)}, ${doc.machine.cpus} cores (${doc.machine.cpuModel ?? ''}). ${doc.blocks} blocks shaped like a 128 px archive's (per image 400 B, 150 B, 150 B, 1, 4, 16 KiB), ${mib(doc.payloadBytes)} MiB of random content. CPU is the whole process's per block; ratios are against fs in the same run. Regenerated by the command.`,
    '',
    '| store | writes | put blocks/s | put CPU µs/block | get blocks/s | get CPU µs/block | open ms | disk MiB | files | wrong reads |',
    '|---|---|---:|---:|---:|---:|---:|---:|---:|---:|'
  ]
  for (const r of doc.rows) {
    lines.push(`| ${r.store} | ${r.writes} | ${r.putPerS} (${(r.putPerS / fs.putPerS).toFixed(2)}x) | ${r.putCpuUs} (${(r.putCpuUs / fs.putCpuUs).toFixed(2)}x) | ${r.getPerS} (${(r.getPerS / fs.getPerS).toFixed(2)}x) | ${r.getCpuUs} (${(r.getCpuUs / fs.getCpuUs).toFixed(2)}x) | ${r.openMs} | ${mib(r.diskBytes)} | ${r.files} | ${r.wrongReads} |`)
  }
  lines.push('', '## kill -9 while writing', '', '| store | killed ms after its first round | blocks acknowledged before | blocks held after reopen | corrupt | reopened | temp files left |', '|---|---:|---:|---:|---:|---|---:|')
  for (const k of doc.kills) lines.push(`| ${k.store} | ${k.killedAfterMs} | ${k.ackedBeforeKill} | ${k.held} | ${k.corrupt} | ${k.opened} | ${k.tempFilesLeft} |`)
  lines.push('', 'Stores:', '', ...Object.entries(doc.stores).map(([k, v]) => `- ${k}: ${String(v)}`), '')
  return lines.join('\n')
}

if (process.argv[2] === '--writer') await writer(process.argv[3], process.argv[4])
