/**
 * Property-based fuzzing of hostile inputs (fast-check generates the cases, deterministic by seed).
 *
 * Every case runs in a worker thread over the compiled dist/ code, so that the runner can bound
 * it: a case that does not answer within its kind's time limit is a HANG (the worker is
 * terminated and replaced), a worker that dies is an OOM/crash, and the process's peak RSS may
 * not grow by more than RSS_BOUND over the RSS before the case. The property for every case:
 * it ends in a MistError subclass, or in a result that passes the kind's correctness check.
 *
 * Kinds: parse (parseCodestream), decode (decodeHTJ2K at a random reduce), retrieve (codestream ->
 * buildImageDag -> every level through decodeImageLevel), png / dicom / nifti / nifti-gz (readInputs
 * on mutated real fixtures and writer outputs), dag (mutated image/volume/dataset roots ->
 * readRoot, verifyRoot, retrieve), and three shapes an insider can publish (issue 16), run the
 * same way: leaves (image roots repeating a leaf or listing more bytes than their pixels
 * justify), shards (volume roots repeating shards or slice roots, lying about depth or slice
 * size), names (dataset entries with hostile or colliding names, any output format). For the
 * root kinds the worker also checks that every output lies inside the output directory, that
 * no two outputs share a path (case-insensitively) and that nothing appears beside it.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'
import { crc32, gzipSync } from 'node:zlib'
import { Worker } from 'node:worker_threads'
import fc from 'fast-check'
import * as dagCbor from '@ipld/dag-cbor'
import { CID } from 'multiformats/cid'
import { sha256 } from 'multiformats/hashes/sha2'
import { buildDatasetDag, buildImageDag, buildVolumeDag, compareNames, datasetLevels, levelExtent, SLICES_PER_SHARD } from '../../src/chunker/index.js'
import { encodeHTJ2K, synthesizeImage } from '../../src/codec/index.js'
import { encodeDicomHTJ2K, encodeNifti, encodePng } from '../../src/formats/index.js'
import type { Block } from '../../src/types.js'

const ROOT = fileURLToPath(new URL('../../', import.meta.url))
/** Peak RSS growth allowed for one case: inputs are at most a few MB, their rasters tens of MB. */
export const RSS_BOUND = 384 * 1024 * 1024
export const KINDS = ['parse', 'decode', 'retrieve', 'png', 'dicom', 'nifti', 'nifti-gz', 'dag', 'leaves', 'shards', 'names'] as const
/** The kinds over hostile DAG roots (handled alike by the worker). */
export const ROOT_KINDS: readonly Kind[] = ['dag', 'leaves', 'shards', 'names']
export type Kind = typeof KINDS[number]
/** Per-case time limit of each kind (ms). */
export const TIME_LIMIT: Record<Kind, number> = { parse: 2000, decode: 10_000, retrieve: 20_000, png: 15_000, dicom: 20_000, nifti: 15_000, 'nifti-gz': 15_000, dag: 30_000, leaves: 30_000, shards: 30_000, names: 30_000 }

// ---------------------------------------------------------------- the worker (plain JS over dist/)

const WORKER_SOURCE = String.raw`
const { parentPort, workerData } = require('node:worker_threads')
const fs = require('node:fs')
const path = require('node:path')
;(async () => {
  const dist = (p) => require('node:url').pathToFileURL(path.join(workerData.root, 'dist', p)).href
  const errors = await import(dist('src/errors.js'))
  const chunker = await import(dist('src/chunker/index.js'))
  const codec = await import(dist('src/codec/index.js'))
  const formats = await import(dist('src/formats/index.js'))
  const retrieve = await import(dist('src/retrieve/index.js'))
  const level = await import(dist('src/level/index.js'))
  const { verifyRoot } = await import(dist('src/verify/index.js'))
  const { verifyBlock } = await import(dist('src/repo/verify.js'))
  const { CID } = await import(require('node:url').pathToFileURL(path.join(workerData.root, 'node_modules/multiformats/dist/src/cid.js')).href)
  const mistNames = new Set(Object.values(errors).filter(c => typeof c === 'function' && (c === errors.MistError || c.prototype instanceof errors.MistError)).map(c => c.name))
  const tmp = fs.mkdtempSync(path.join(workerData.tmp, 'w-'))
  const baseBlocks = new Map(workerData.blocks.map(b => [b.cid, b.bytes]))
  // decode in this thread: a hang is bounded by terminating this worker
  const pool = { decode: async (cs, o) => codec.decodeHTJ2K(cs, { reduce: o?.reduce }), encode: async (img, o) => codec.encodeHTJ2K(img, o), runJob: async (module, img) => (await import(module)).runJob(img) }
  let n = 0
  const checkRaster = (img, what) => {
    if (img.data.length !== img.width * img.height * img.components) throw new Error(what + ': raster ' + img.width + 'x' + img.height + 'x' + img.components + ' has ' + img.data.length + ' samples')
  }
  const run = async (c) => {
    if (c.kind === 'parse') {
      const l = chunker.parseCodestream(c.bytes, 'fuzz')
      if (l.levels.length !== l.decompositions + 1) return 'WRONG: ' + l.levels.length + ' levels for D=' + l.decompositions
      for (let k = 1; k < l.levels.length; k++) if (!(l.levels[k].end > l.levels[k - 1].end)) return 'WRONG: level ends do not increase'
      if (l.levels[l.levels.length - 1].end !== c.bytes.length - 2) return 'WRONG: last level does not end before EOC'
      return 'ok'
    }
    if (c.kind === 'decode') {
      checkRaster(await codec.decodeHTJ2K(c.bytes, { reduce: c.reduce }), 'decode')
      return 'ok'
    }
    if (c.kind === 'retrieve') {
      const l = chunker.parseCodestream(c.bytes, 'fuzz')
      const dag = await chunker.buildImageDag(c.bytes, { bitsStored: l.bitDepth, signed: l.signed, components: l.components }, { sourceFormat: 'png' })
      const blocks = new Map(dag.blocks.map(b => [b.cid.toString(), b.bytes]))
      const source = { get: async (cid) => { const b = blocks.get(cid.toString()); if (b == null) throw new errors.MissingBlockError('no block ' + cid); return b }, has: async (cid) => blocks.has(cid.toString()) }
      const found = await level.readRoot(source, dag.root)
      for (const lv of found.root.levels) {
        const got = await retrieve.decodeImageLevel(source, level.planImageLevel(dag.root, found.root, lv.level), { pool })
        if (got.image.width !== lv.width || got.image.height !== lv.height) return 'WRONG: level ' + lv.level + ' decoded to ' + got.image.width + 'x' + got.image.height
        checkRaster(got.image, 'level ' + lv.level)
      }
      return 'ok'
    }
    if (c.kind === 'dag' || c.kind === 'leaves' || c.kind === 'shards' || c.kind === 'names') {
      const extra = new Map(c.blocks.map(b => [b.cid, b.bytes]))
      const source = {
        get: async (cid) => {
          const b = extra.get(cid.toString()) ?? baseBlocks.get(cid.toString())
          if (b == null) throw new errors.MissingBlockError('block ' + cid + ' is not held')
          verifyBlock(cid, b)
          return b
        },
        has: async (cid) => extra.has(cid.toString()) || baseBlocks.has(cid.toString())
      }
      const root = CID.parse(c.root)
      const sel = c.level == null ? {} : { level: c.level }
      let firstError
      try { await level.readRoot(source, root) } catch (err) { if (!(err instanceof errors.MistError)) throw err; firstError = err }
      const v = await verifyRoot(source, root, { ...sel, pool })
      for (const p of v.problems) if (!mistNames.has(p.error)) return 'CRASH in verify: ' + p.error + ': ' + p.message
      if (firstError == null && !v.ok && v.problems.length === 0) return 'WRONG: verify not ok without problems'
      // the output directory sits alone in a box: anything written beside it (an escape) shows
      const box = path.join(tmp, 'box' + (n++))
      fs.mkdirSync(box)
      const out = path.join(box, 'out')
      let r
      try {
        r = await retrieve.retrieve(source, root, { ...sel, out, pool, concurrency: 2, format: c.format })
      } catch (err) {
        fs.rmSync(box, { recursive: true, force: true })
        throw err
      }
      const beside = fs.readdirSync(box).filter(f => f !== 'out')
      const escaped = fs.readdirSync(tmp).filter(f => f.startsWith('box') && !fs.statSync(path.join(tmp, f)).isDirectory())
      const seen = new Set()
      let wrong
      for (const f of r.failures) if (!mistNames.has(f.error.name)) wrong ??= 'CRASH in retrieve of ' + f.name + ': ' + f.error.name + ': ' + f.error.message
      for (const o of r.outputs) for (const p of o.paths) {
        if (p !== out && !p.startsWith(out + path.sep)) wrong ??= 'WRONG: output ' + p + ' of ' + o.name + ' is not inside ' + out
        if (!fs.existsSync(p)) wrong ??= 'WRONG: output ' + p + ' missing'
        const key = p.normalize('NFC').toLowerCase()
        if (seen.has(key)) wrong ??= 'WRONG: two outputs at ' + p
        seen.add(key)
      }
      if (beside.length > 0 || escaped.length > 0) wrong ??= 'WRONG: written outside the output directory: ' + [...beside, ...escaped].join(', ')
      fs.rmSync(box, { recursive: true, force: true })
      for (const f of escaped) fs.rmSync(path.join(tmp, f), { force: true })
      if (wrong != null) return wrong
      if (firstError != null) throw firstError
      return r.failures.length > 0 ? 'error:' + r.failures[0].error.name : 'ok'
    }
    // readers
    const file = path.join(tmp, 'in' + (n++) + c.ext)
    fs.writeFileSync(file, c.bytes)
    try {
      const items = await formats.readInputs(file)
      for (const item of items) {
        if (item.kind === 'image') checkRaster(item.image, 'image')
        else {
          let z = 0
          for await (const s of item.slices()) { checkRaster(s, 'slice ' + z); if (++z > 4096) break }
          if (z !== item.sliceCount && z <= 4096) return 'WRONG: volume yielded ' + z + ' slices, sliceCount ' + item.sliceCount
        }
      }
      return 'ok'
    } finally { fs.rmSync(file, { force: true }) }
  }
  parentPort.on('message', async (c) => {
    const rssBefore = process.memoryUsage().rss
    const peakBefore = process.resourceUsage().maxRSS * 1024
    let outcome, name = '', message = ''
    try {
      const r = await run(c)
      if (r === 'ok') outcome = 'ok'
      else if (r.startsWith('error:')) { outcome = 'error'; name = r.slice(6) }
      else { outcome = 'violation'; message = r }
    } catch (err) {
      name = err?.name ?? typeof err
      message = String(err?.message ?? err).slice(0, 500)
      outcome = err instanceof errors.MistError ? 'error' : 'violation'
      if (outcome === 'violation') message = 'CRASH ' + name + ': ' + message + '\n' + String(err?.stack ?? '').split('\n').slice(1, 6).join('\n')
    }
    const peakAfter = process.resourceUsage().maxRSS * 1024
    parentPort.postMessage({ id: c.id, outcome, name, message, rssBefore, peakGrowth: Math.max(0, peakAfter - Math.max(peakBefore, rssBefore)) })
  })
  parentPort.postMessage({ ready: true })
})().catch(err => { parentPort.postMessage({ fatal: String(err?.stack ?? err) }) })
`

export interface FuzzCase {
  kind: Kind
  bytes?: Uint8Array
  ext?: string
  reduce?: number
  blocks?: Array<{ cid: string, bytes: Uint8Array }>
  root?: string
  level?: number
  /** Output format for the root kinds (default: the getter's). */
  format?: 'png' | 'nii' | 'j2c' | 'dcm' | 'npy'
  /** A short description of how the case was made (for reports). */
  how: string
}

export interface CaseResult { outcome: 'ok' | 'error' | 'violation' | 'hang' | 'died' | 'rss', name: string, message: string, ms: number }

/** Runs cases one at a time in a worker thread, bounding each case's time and memory. */
export class FuzzRunner {
  private worker?: Worker
  private ready?: Promise<void>
  private pending?: { id: number, resolve: (r: any) => void }
  private nextId = 0
  constructor (private readonly baseBlocks: Block[], private readonly tmp: string) {}

  private start (): Promise<void> {
    const w = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { root: ROOT, tmp: this.tmp, blocks: this.baseBlocks.map(b => ({ cid: b.cid.toString(), bytes: b.bytes })) },
      resourceLimits: { maxOldGenerationSizeMb: 1024 },
      stdout: true,
      stderr: true
    })
    this.worker = w
    this.ready = new Promise((resolve, reject) => {
      w.on('message', (m: any) => {
        if (m.ready === true) { resolve(); return }
        if (m.fatal != null) { reject(new Error(`fuzz worker failed to start: ${m.fatal as string}`)); return }
        if (this.pending?.id === m.id) { const p = this.pending; this.pending = undefined; p.resolve(m) }
      })
      w.on('error', err => {
        reject(err)
        if (this.pending != null) { const p = this.pending; this.pending = undefined; p.resolve({ outcome: 'died', name: err?.name, message: String(err?.message ?? err) }) }
      })
      w.on('exit', code => {
        if (this.worker === w) this.worker = undefined
        if (this.pending != null) { const p = this.pending; this.pending = undefined; p.resolve({ outcome: 'died', name: 'exit', message: `worker exited with code ${code}` }) }
      })
    })
    return this.ready
  }

  async run (c: FuzzCase): Promise<CaseResult> {
    if (this.worker == null) await this.start()
    else await this.ready
    const id = ++this.nextId
    const t0 = performance.now()
    const limit = TIME_LIMIT[c.kind]
    let timer: NodeJS.Timeout | undefined
    const answer = await new Promise<any>(resolve => {
      this.pending = { id, resolve }
      timer = setTimeout(() => { this.pending = undefined; resolve({ outcome: 'hang', name: 'timeout', message: `no answer within ${limit} ms` }) }, limit)
      const { how: _how, ...msg } = c
      this.worker!.postMessage({ ...msg, id })
    })
    clearTimeout(timer)
    const ms = performance.now() - t0
    if (answer.outcome === 'hang' || answer.outcome === 'died') {
      const w = this.worker
      this.worker = undefined
      await w?.terminate()
    }
    if ((answer.outcome === 'ok' || answer.outcome === 'error') && answer.peakGrowth > RSS_BOUND) {
      return { outcome: 'rss', name: answer.name, message: `peak RSS grew by ${(answer.peakGrowth / 1048576).toFixed(0)} MiB (bound ${RSS_BOUND / 1048576} MiB); outcome was ${answer.outcome} ${answer.name as string}`, ms }
    }
    return { outcome: answer.outcome, name: answer.name ?? '', message: answer.message ?? '', ms }
  }

  async close (): Promise<void> { await this.worker?.terminate() }
}

// ---------------------------------------------------------------- base inputs

interface Field { at: number, width: 1 | 2 | 4, le: boolean, what: string }
export interface Base { name: string, bytes: Uint8Array, ext: string, fields: Field[] }

function be16 (b: Uint8Array, at: number): number { return (b[at] << 8) | b[at + 1] }
function be32 (b: Uint8Array, at: number): number { return ((b[at] << 24) >>> 0) + ((b[at + 1] << 16) | (b[at + 2] << 8) | b[at + 3]) }

/** SIZ fields, every main-header segment length, COD parameters, SOT lengths and indices. */
export function codestreamFields (b: Uint8Array): Field[] {
  const f: Field[] = []
  const add = (at: number, width: 1 | 2 | 4, what: string): void => { if (at + width <= b.length) f.push({ at, width, le: false, what }) }
  for (const [at, w, what] of [[4, 2, 'Lsiz'], [6, 2, 'Rsiz'], [8, 4, 'Xsiz'], [12, 4, 'Ysiz'], [16, 4, 'XOsiz'], [20, 4, 'YOsiz'], [24, 4, 'XTsiz'], [28, 4, 'YTsiz'], [32, 4, 'XTOsiz'], [36, 4, 'YTOsiz'], [40, 2, 'Csiz'], [42, 1, 'Ssiz']] as const) add(at, w, what)
  let p = 4 + be16(b, 4)
  for (let i = 0; i < 64 && p + 4 <= b.length; i++) {
    const m = be16(b, p)
    if (m === 0xff90) break
    add(p + 2, 2, `L${m.toString(16)}`)
    if (m === 0xff52) { add(p + 5, 1, 'COD order'); add(p + 6, 2, 'COD layers'); add(p + 9, 1, 'COD decompositions'); add(p + 10, 1, 'COD xcb'); add(p + 13, 1, 'COD transform') }
    if (m === 0xff55) for (let q = p + 6; q + 4 <= p + 2 + be16(b, p + 2) && q < p + 64; q += 4) add(q, 4, 'TLM Ptlm')
    p += 2 + be16(b, p + 2)
  }
  for (let i = 0; i < 40 && p + 12 <= b.length && be16(b, p) === 0xff90; i++) {
    add(p + 2, 2, 'Lsot'); add(p + 4, 2, 'Isot'); add(p + 6, 4, 'Psot'); add(p + 10, 1, 'TPsot'); add(p + 11, 1, 'TNsot')
    const psot = be32(b, p + 6)
    if (psot < 14) break
    p += psot
  }
  return f
}

function pngFields (b: Uint8Array): Field[] {
  const f: Field[] = [{ at: 16, width: 4, le: false, what: 'IHDR width' }, { at: 20, width: 4, le: false, what: 'IHDR height' }, { at: 24, width: 1, le: false, what: 'bit depth' }, { at: 25, width: 1, le: false, what: 'colour type' }, { at: 28, width: 1, le: false, what: 'interlace' }]
  let p = 8
  for (let i = 0; i < 200 && p + 8 <= b.length; i++) {
    f.push({ at: p, width: 4, le: false, what: 'chunk length' })
    p += 12 + be32(b, p)
  }
  return f
}

function niftiFields (): Field[] {
  const f: Field[] = [{ at: 0, width: 4, le: true, what: 'sizeof_hdr' }, { at: 70, width: 2, le: true, what: 'datatype' }, { at: 72, width: 2, le: true, what: 'bitpix' }, { at: 108, width: 4, le: true, what: 'vox_offset' }, { at: 112, width: 4, le: true, what: 'scl_slope' }, { at: 252, width: 2, le: true, what: 'qform_code' }, { at: 254, width: 2, le: true, what: 'sform_code' }, { at: 348, width: 1, le: true, what: 'extension flag' }, { at: 352, width: 4, le: true, what: 'esize' }, { at: 356, width: 4, le: true, what: 'ecode' }]
  for (let i = 0; i < 8; i++) f.push({ at: 40 + 2 * i, width: 2, le: true, what: `dim[${i}]` })
  for (let i = 0; i < 8; i++) f.push({ at: 76 + 4 * i, width: 4, le: true, what: `pixdim[${i}]` })
  return f
}

/** Value fields and lengths of the DICOM elements a reader sizes its buffers from. */
function dicomFields (b: Uint8Array): Field[] {
  const tags: Array<[number, number, string]> = [[0x0028, 0x0010, 'Rows'], [0x0028, 0x0011, 'Columns'], [0x0028, 0x0008, 'NumberOfFrames'], [0x0028, 0x0002, 'SamplesPerPixel'], [0x0028, 0x0100, 'BitsAllocated'], [0x0028, 0x0101, 'BitsStored'], [0x0028, 0x0103, 'PixelRepresentation'], [0x7fe0, 0x0010, 'PixelData'], [0x0002, 0x0000, 'GroupLength'], [0x0002, 0x0010, 'TransferSyntax'], [0x0028, 0x0004, 'Photometric'], [0x0029, 0x1010, 'CSA header'], [0x5200, 0x9230, 'PerFrameFunctionalGroups'], [0x0020, 0x9157, 'DimensionIndexValues']]
  const f: Field[] = []
  for (const [g, e, what] of tags) {
    for (let i = 128; i + 12 <= b.length; i++) {
      if (b[i] === (g & 0xff) && b[i + 1] === g >> 8 && b[i + 2] === (e & 0xff) && b[i + 3] === e >> 8) {
        f.push({ at: i + 4, width: 4, le: true, what: `${what} VR/len` }, { at: i + 6, width: 2, le: true, what: `${what} len16` }, { at: i + 8, width: 4, le: true, what: `${what} value/len32` }, { at: i + 8, width: 2, le: true, what: `${what} value16` })
        break
      }
    }
  }
  return f
}

export interface Bases { codestreams: Base[], png: Base[], dicom: Base[], nifti: Base[], niftiGz: Base[] }

/** Base inputs: real fixture files (when MIST_REAL_FIXTURES is set) and our writers' outputs. */
export async function makeBases (fixtures?: string): Promise<Bases> {
  const img8 = synthesizeImage(64, 48, 8, false, 1, 3)
  const img12 = synthesizeImage(300, 200, 12, false, 1, 4)
  const img16s = synthesizeImage(40, 70, 16, true, 1, 5)
  const rgb = synthesizeImage(33, 17, 8, false, 3, 6)
  const cs: Base[] = []
  for (const [name, img] of [['64x48 u8', img8], ['300x200 u12', img12], ['40x70 s16', img16s], ['33x17 rgb', rgb]] as const) {
    const bytes = await encodeHTJ2K(img)
    cs.push({ name, bytes, ext: '.j2c', fields: codestreamFields(bytes) })
  }
  const csSmall = await encodeHTJ2K(synthesizeImage(20, 20, 8, false, 1, 7), { decompositions: 5 })
  cs.push({ name: '20x20 u8 D5', bytes: csSmall, ext: '.j2c', fields: codestreamFields(csSmall) })
  const read = async (rel: string): Promise<Uint8Array | undefined> => {
    if (fixtures == null || !existsSync(join(fixtures, rel))) return undefined
    return new Uint8Array(await import('node:fs/promises').then(async fs => fs.readFile(join(fixtures, rel))))
  }
  // the codestream of a real HTJ2K DICOM (one fragment: from SOC to its EOC)
  const jph = await read('github-DICOMHTJ2K/htj2k/CT1_JPH.dcm')
  if (jph != null) {
    const buf = Buffer.from(jph)
    const start = buf.indexOf(Buffer.from([0xff, 0x4f, 0xff, 0x51]))
    const end = buf.lastIndexOf(Buffer.from([0xff, 0xd9]))
    if (start > 0 && end > start) { const bytes = new Uint8Array(buf.subarray(start, end + 2)); cs.push({ name: 'CT1_JPH codestream', bytes, ext: '.j2c', fields: codestreamFields(bytes) }) }
  }

  const png: Base[] = []
  for (const [name, img] of [['writer 64x48 u8', img8], ['writer 300x200 u12', img12]] as const) {
    const bytes = encodePng(img)
    png.push({ name, bytes, ext: '.png', fields: pngFields(bytes) })
  }
  const realPng = await read('github-reproduce-chexnet/00000075_000.png')
  if (realPng != null) png.push({ name: '00000075_000.png', bytes: realPng, ext: '.png', fields: pngFields(realPng) })

  const volMeta = { sourceFormat: 'nifti', dims: [24, 16, 3] as [number, number, number], spacing: [1, 1, 2] as [number, number, number], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1], dtype: 'int16' }
  const slices = [0, 1, 2].map(z => synthesizeImage(24, 16, 12, true, 1, 10 + z))
  const nifti: Base[] = []
  const niiW = encodeNifti(volMeta as any, slices)
  nifti.push({ name: 'writer 24x16x3 int16', bytes: niiW, ext: '.nii', fields: niftiFields() })
  const realNii = await read('github-NIFTI-Reader-JS/5D_small.nii')
  if (realNii != null) nifti.push({ name: '5D_small.nii', bytes: realNii, ext: '.nii', fields: niftiFields() })
  const niftiGz: Base[] = []
  for (const rel of ['github-NIFTI-Reader-JS/little.nii.gz', 'github-NIFTI-Reader-JS/with_extension.nii.gz', 'github-TotalSegmentator/example_seg_mr.nii.gz']) {
    const b = await read(rel)
    if (b != null) {
      const { gunzipSync } = await import('node:zlib')
      const inner = new Uint8Array(gunzipSync(b))
      niftiGz.push({ name: rel.split('/').pop()!, bytes: inner, ext: '.nii.gz', fields: niftiFields() })
    }
  }
  niftiGz.push({ name: 'writer 24x16x3 int16 (gz)', bytes: niiW, ext: '.nii.gz', fields: niftiFields() })

  const dicom: Base[] = []
  const dcmW = encodeDicomHTJ2K({ codestream: cs[0].bytes, modality: 'OT' } as any)
  dicom.push({ name: 'writer HTJ2K 64x48', bytes: dcmW, ext: '.dcm', fields: dicomFields(dcmW) })
  for (const rel of ['github-pydicom-data/emri_small.dcm', 'github-pydicom-data/emri_small_RLE.dcm', 'github-pydicom-data/emri_small_jpeg_2k_lossless.dcm', 'github-pydicom-data/emri_small_jpeg_ls_lossless.dcm', 'github-pydicom-data/emri_small_big_endian.dcm', 'github-pydicom-data/JLSL_16_15_1_1F.dcm', 'github-DICOMHTJ2K/htj2k/CT1_JPH.dcm', 'github-dcm_qa_mosaic/In/ep2d_Asc_2/IM-0001-0001.dcm', 'github-dcm_qa_enh/In/Siemens/XA10/6_1.dcm']) {
    const b = await read(rel)
    if (b != null) dicom.push({ name: rel.split('/').pop()!, bytes: b, ext: '.dcm', fields: dicomFields(b) })
  }
  return { codestreams: cs, png, dicom, nifti, niftiGz }
}

// ---------------------------------------------------------------- mutations

const EXTREMES = [0, 1, 2, 0x7f, 0x80, 0xff, 0x100, 0x7fff, 0x8000, 0xfffe, 0xffff, 65535, 100000, 0x7fffffff, 0x80000000, 0xfffffffe, 0xffffffff]

type Op =
  | { t: 'flip', at: number, bit: number }
  | { t: 'byte', at: number, v: number }
  | { t: 'truncate', at: number }
  | { t: 'insert', at: number, bytes: Uint8Array }
  | { t: 'delete', at: number, n: number }
  | { t: 'field', f: number, v: number }
  | { t: 'copy', from: number, to: number, n: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ t: fc.constant('flip' as const), at: fc.nat(), bit: fc.integer({ min: 0, max: 7 }) }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('byte' as const), at: fc.nat(), v: fc.integer({ min: 0, max: 255 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('truncate' as const), at: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('insert' as const), at: fc.nat(), bytes: fc.uint8Array({ minLength: 1, maxLength: 64 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('delete' as const), at: fc.nat(), n: fc.integer({ min: 1, max: 512 }) }) },
  { weight: 4, arbitrary: fc.record({ t: fc.constant('field' as const), f: fc.nat(), v: fc.oneof(fc.constantFrom(...EXTREMES), fc.nat({ max: 0xffffffff })) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('copy' as const), from: fc.nat(), to: fc.nat(), n: fc.integer({ min: 1, max: 256 }) }) }
)

export const mutationArb = fc.array(opArb, { minLength: 1, maxLength: 6 })

export function mutate (base: Base, ops: Op[]): { bytes: Uint8Array, how: string } {
  let b = new Uint8Array(base.bytes)
  const how: string[] = []
  for (const op of ops) {
    const len = b.length
    if (len === 0) break
    switch (op.t) {
      case 'flip': b[op.at % len] ^= 1 << op.bit; how.push(`flip@${op.at % len}`); break
      case 'byte': b[op.at % len] = op.v; how.push(`byte@${op.at % len}=${op.v}`); break
      case 'truncate': b = b.slice(0, op.at % len); how.push(`truncate@${op.at % len}`); break
      case 'insert': { const at = op.at % len; const nb = new Uint8Array(len + op.bytes.length); nb.set(b.subarray(0, at)); nb.set(op.bytes, at); nb.set(b.subarray(at), at + op.bytes.length); b = nb; how.push(`insert@${at}+${op.bytes.length}`); break }
      case 'delete': { const at = op.at % len; b = new Uint8Array(Buffer.concat([b.subarray(0, at), b.subarray(Math.min(len, at + op.n))])); how.push(`delete@${at}-${op.n}`); break }
      case 'copy': { const from = op.from % len; const to = op.to % len; b.copyWithin(to, from, Math.min(len, from + op.n)); how.push(`copy${from}->${to}`); break }
      case 'field': {
        if (base.fields.length === 0) break
        const f = base.fields[op.f % base.fields.length]
        if (f.at + f.width > len) break
        const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
        if (f.width === 1) dv.setUint8(f.at, op.v & 0xff)
        else if (f.width === 2) dv.setUint16(f.at, op.v & 0xffff, f.le)
        else dv.setUint32(f.at, op.v >>> 0, f.le)
        how.push(`${f.what}=${op.v}`)
        break
      }
    }
  }
  return { bytes: b, how: how.join(' ') }
}

/**
 * Recompute the CRC of every PNG chunk that still lies inside the file (walking by the chunk
 * lengths), so that a mutated PNG gets past the CRC check and reaches the header and pixel code.
 */
export function fixPngCrcs (b: Uint8Array): Uint8Array {
  const dv = new DataView(b.buffer, b.byteOffset, b.byteLength)
  for (let p = 8, i = 0; p + 12 <= b.length && i < 10_000; i++) {
    const len = dv.getUint32(p)
    if (p + 12 + len > b.length) break
    dv.setUint32(p + 8 + len, crc32(b.subarray(p + 4, p + 8 + len)))
    p += 12 + len
  }
  return b
}

/** Case arbitrary for a byte-mutation kind over `bases`. */
export function bytesCaseArb (kind: Kind, bases: Base[]): fc.Arbitrary<FuzzCase> {
  const gz = kind === 'nifti-gz'
  return fc.record({ base: fc.nat({ max: bases.length - 1 }), ops: mutationArb, reduce: fc.integer({ min: 0, max: 6 }), gzMode: fc.constantFrom('inner', 'inner', 'outer', 'truncated'), fixCrc: fc.boolean() }).map(({ base, ops, reduce, gzMode, fixCrc }) => {
    const b = bases[base]
    if (!gz) {
      const m = mutate(b, ops)
      // PNG: half the cases carry valid CRCs, or nearly every mutation would stop at the CRC check
      if (kind === 'png' && fixCrc) return { kind, bytes: fixPngCrcs(m.bytes), ext: b.ext, reduce, how: `${b.name}: ${m.how} (CRCs fixed)` }
      return { kind, bytes: m.bytes, ext: b.ext, reduce, how: `${b.name}: ${m.how}` }
    }
    if (gzMode === 'inner') {
      const m = mutate(b, ops)
      return { kind, bytes: new Uint8Array(gzipSync(m.bytes, { level: 1 })), ext: b.ext, how: `${b.name} gzip(${m.how})` }
    }
    const zipped: Base = { ...b, bytes: new Uint8Array(gzipSync(b.bytes, { level: 1 })), fields: [] }
    if (gzMode === 'truncated') {
      const at = ops.length * 7919 % zipped.bytes.length
      return { kind, bytes: zipped.bytes.slice(0, at), ext: b.ext, how: `${b.name} gz truncated@${at}` }
    }
    const m = mutate(zipped, ops)
    return { kind, bytes: m.bytes, ext: b.ext, how: `${b.name} gz bytes: ${m.how}` }
  })
}

// ---------------------------------------------------------------- hostile DAGs

export interface BaseDag {
  blocks: Block[]
  image: { cid: CID, node: any }
  volume: { cid: CID, node: any }
  dataset: { cid: CID, node: any }
}

async function cbor (value: unknown): Promise<Block> {
  const bytes = dagCbor.encode(value)
  return { cid: CID.createV1(dagCbor.code, await sha256.digest(bytes)), bytes }
}

/** A small dataset: a 64x48 image and a 3-slice 24x16 volume, every block in memory. */
export async function makeBaseDag (): Promise<BaseDag> {
  const cs = await encodeHTJ2K(synthesizeImage(64, 48, 12, false, 1, 21), { decompositions: 3 })
  const img = await buildImageDag(cs, { bitsStored: 12, signed: false, components: 1 }, { sourceFormat: 'png' })
  const sliceDags = []
  for (let z = 0; z < 3; z++) {
    const s = await encodeHTJ2K(synthesizeImage(24, 16, 12, true, 1, 30 + z))
    sliceDags.push(await buildImageDag(s, { bitsStored: 12, signed: true, components: 1 }, { sourceFormat: 'nifti' }))
  }
  const vol = await buildVolumeDag({ sourceFormat: 'nifti', dims: [24, 16, 3], spacing: [1, 1, 2], affine: [1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 1], dtype: 'int16' } as any, sliceDags.map(d => ({ root: d.root, levels: d.levels })))
  const ds = await buildDatasetDag([{ name: 'img.png', root: img.root, kind: 'image', levels: img.levels }, { name: 'vol.nii', root: vol.root, kind: 'volume', levels: vol.levels }])
  const blocks = new Map<string, Block>()
  for (const b of [...img.blocks, ...sliceDags.flatMap(d => d.blocks), ...vol.blocks, ...ds.blocks]) blocks.set(b.cid.toString(), b)
  const node = (c: CID): any => dagCbor.decode(blocks.get(c.toString())!.bytes)
  return { blocks: [...blocks.values()], image: { cid: img.root, node: node(img.root) }, volume: { cid: vol.root, node: node(vol.root) }, dataset: { cid: ds.root, node: node(ds.root) } }
}

/** Every path (keys and indices) in a decoded node, breadth first, at most `max`. */
function paths (value: any, max = 400): Array<Array<string | number>> {
  const out: Array<Array<string | number>> = []
  const queue: Array<{ v: any, p: Array<string | number> }> = [{ v: value, p: [] }]
  while (queue.length > 0 && out.length < max) {
    const { v, p } = queue.shift()!
    if (v == null || typeof v !== 'object' || v instanceof Uint8Array || CID.asCID(v) != null) continue
    for (const k of Array.isArray(v) ? v.keys() : Object.keys(v)) { out.push([...p, k]); queue.push({ v: v[k], p: [...p, k] }) }
  }
  return out
}

function setPath (obj: any, p: Array<string | number>, value: unknown, remove: boolean): any {
  const copy = structuredCloneCbor(obj)
  let o = copy
  for (const k of p.slice(0, -1)) o = o[k]
  const last = p[p.length - 1]
  if (remove) { if (Array.isArray(o)) o.splice(last as number, 1); else delete o[last] } else o[last] = value
  return copy
}

function structuredCloneCbor (v: any): any { return dagCbor.decode(dagCbor.encode(v)) }

type Hostile = { t: 'int', v: number } | { t: 'str', v: string } | { t: 'bool', v: boolean } | { t: 'null' } | { t: 'absent-cid', seed: number } | { t: 'other-node', which: number } | { t: 'bytes', len: number } | { t: 'many', n: number } | { t: 'empty-array' } | { t: 'empty-map' } | { t: 'float', v: number }

const hostileArb: fc.Arbitrary<Hostile> = fc.oneof(
  fc.record({ t: fc.constant('int' as const), v: fc.oneof(fc.constantFrom(-1, 0, 1, 2, 33, 34, 4096, 8193, 65535, 65536, 2 ** 31, 2 ** 32, 2 ** 32 - 1, Number.MAX_SAFE_INTEGER, -(2 ** 53) + 1), fc.integer()) }),
  fc.record({ t: fc.constant('float' as const), v: fc.constantFrom(0.5, -0.5, 1e300, 3.25) }),
  fc.record({ t: fc.constant('str' as const), v: fc.oneof(fc.constantFrom('', '../../../etc/passwd', '/abs', 'a/../b', 'x'.repeat(3000), 'a\u0000b', 'image', 'volume', 'dataset', '\uD800'), fc.string()) }),
  fc.record({ t: fc.constant('bool' as const), v: fc.boolean() }),
  fc.record({ t: fc.constant('null' as const) }),
  fc.record({ t: fc.constant('absent-cid' as const), seed: fc.nat() }),
  fc.record({ t: fc.constant('other-node' as const), which: fc.nat() }),
  fc.record({ t: fc.constant('bytes' as const), len: fc.integer({ min: 0, max: 64 }) }),
  fc.record({ t: fc.constant('many' as const), n: fc.constantFrom(34, 1000, 5000, 20000) }),
  fc.record({ t: fc.constant('empty-array' as const) }),
  fc.record({ t: fc.constant('empty-map' as const) })
)

type DagOp =
  | { t: 'set', path: number, value: Hostile }
  | { t: 'delete', path: number }
  | { t: 'lie-size', d: number }
  | { t: 'lie-decompositions', d: number }
  | { t: 'many-levels', n: number }
  | { t: 'garbage', bytes: Uint8Array }
  | { t: 'cbor', value: unknown }

const dagOpArb: fc.Arbitrary<DagOp> = fc.oneof(
  { weight: 6, arbitrary: fc.record({ t: fc.constant('set' as const), path: fc.nat(), value: hostileArb }) },
  { weight: 2, arbitrary: fc.record({ t: fc.constant('delete' as const), path: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('lie-size' as const), d: fc.integer({ min: -40, max: 70000 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('lie-decompositions' as const), d: fc.integer({ min: -3, max: 40 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('many-levels' as const), n: fc.constantFrom(33, 34, 1000, 5000) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('garbage' as const), bytes: fc.uint8Array({ maxLength: 200 }) }) },
  { weight: 1, arbitrary: fc.record({ t: fc.constant('cbor' as const), value: fc.jsonValue({ maxDepth: 3 }) }) }
)

async function hostileValue (h: Hostile, base: BaseDag, sample: unknown): Promise<unknown> {
  switch (h.t) {
    case 'int': return h.v
    case 'float': return h.v
    case 'str': return h.v.replace(/[\uD800-\uDFFF]/g, '\uFFFD') === h.v ? h.v : 'x\uFFFD'
    case 'bool': return h.v
    case 'null': return null
    case 'absent-cid': return CID.createV1(h.seed % 2 === 0 ? dagCbor.code : 0x55, await sha256.digest(new TextEncoder().encode(`absent ${h.seed}`)))
    case 'other-node': return [base.image.cid, base.volume.cid, base.dataset.cid, base.blocks[h.which % base.blocks.length].cid][h.which % 4]
    case 'bytes': return new Uint8Array(h.len).fill(0xab)
    case 'many': return Array.from({ length: h.n }, () => structuredCloneCbor(sample ?? 0))
    case 'empty-array': return []
    case 'empty-map': return {}
  }
}

export function dagCaseArb (base: BaseDag): fc.Arbitrary<Promise<FuzzCase>> {
  return fc.record({
    target: fc.constantFrom('image', 'volume', 'dataset', 'slice'),
    ops: fc.array(dagOpArb, { minLength: 1, maxLength: 3 }),
    wrap: fc.boolean(),
    level: fc.oneof(fc.constant(undefined), fc.constantFrom(0, 1, 2, 3, 40))
  }).map(async ({ target, ops, wrap, level }) => {
    const extra: Block[] = []
    let node: any
    if (target === 'slice') node = dagCbor.decode(base.blocks.find(b => b.cid.equals(base.volume.node.slices[0]))!.bytes)
    else node = base[target].node
    let bytes: Uint8Array | undefined
    const how: string[] = [target]
    for (const op of ops) {
      // an op that yields a value dag-cbor cannot hold (NaN from a lie over hostile fields) is skipped
      const before = node
      try { await applyDagOp(op) } catch { node = before; how.push(`skipped ${op.t}`) }
    }
    async function applyDagOp (op: DagOp): Promise<void> {
      const ps = paths(node)
      if (op.t === 'set' && ps.length > 0) {
        const p = ps[op.path % ps.length]
        let cur: any = node
        for (const k of p) cur = cur?.[k]
        node = setPath(node, p, await hostileValue(op.value, base, Array.isArray(cur) ? cur[0] : cur), false)
        how.push(`${p.join('.')}=${op.value.t}${'v' in op.value ? `(${String(op.value.v).slice(0, 20)})` : ''}`)
      } else if (op.t === 'delete' && ps.length > 0) {
        const p = ps[op.path % ps.length]
        node = setPath(node, p, undefined, true)
        how.push(`delete ${p.join('.')}`)
      } else if (op.t === 'lie-size' && typeof node?.width === 'number' && Array.isArray(node.levels)) {
        const D = node.codestream?.decompositions ?? node.levels.length - 1
        const w = Math.max(1, node.width + op.d)
        node = { ...node, width: w, levels: node.levels.map((l: any, k: number) => ({ ...l, width: levelExtent(w + (node.codestream?.x0 ?? 0), node.codestream?.x0 ?? 0, D, k) })) }
        how.push(`lie width ${w}`)
      } else if (op.t === 'lie-decompositions' && node?.codestream != null) {
        node = structuredCloneCbor(node)
        node.codestream.decompositions = Math.max(0, node.codestream.decompositions + op.d)
        how.push(`lie D ${String(node.codestream.decompositions)}`)
      } else if (op.t === 'many-levels' && Array.isArray(node?.levels)) {
        node = { ...node, levels: Array.from({ length: op.n }, (_, k) => ({ ...node.levels[Math.min(k, node.levels.length - 1)], level: k })) }
        how.push(`${op.n} levels`)
      } else if (op.t === 'garbage') {
        bytes = op.bytes
        how.push(`garbage ${op.bytes.length} B`)
      } else if (op.t === 'cbor') {
        node = op.value
        how.push('random cbor')
      }
      dagCbor.encode(node)
    }
    let block: Block
    if (bytes != null) {
      block = { cid: CID.createV1(dagCbor.code, await sha256.digest(bytes)), bytes }
    } else {
      try { block = await cbor(node) } catch { block = await cbor({ unencodable: true }) }
    }
    extra.push(block)
    let root = block.cid
    if (target === 'slice') {
      const vol = structuredCloneCbor(base.volume.node)
      vol.slices[0] = block.cid
      const vb = await cbor(vol)
      extra.push(vb)
      root = vb.cid
    }
    if (wrap && target !== 'dataset') {
      const ds = structuredCloneCbor(base.dataset.node)
      const e = ds.entries.find((x: any) => x.name === (target === 'image' ? 'img.png' : 'vol.nii'))
      e.root = root
      const db = await cbor(ds)
      extra.push(db)
      root = db.cid
      how.push('in dataset')
    }
    return { kind: 'dag', blocks: extra.map(b => ({ cid: b.cid.toString(), bytes: b.bytes })), root: root.toString(), level, how: how.join(' ') }
  })
}

// ---------------------------------------------------------------- root shapes an insider can publish (issue 16)

function decoded (base: BaseDag, cid: CID): any {
  return dagCbor.decode(base.blocks.find(b => b.cid.equals(cid))!.bytes)
}

async function rawLeaf (bytes: Uint8Array): Promise<Block> {
  return { cid: CID.createV1(0x55, await sha256.digest(bytes)), bytes }
}

/** An image root built from the base image's root, listing `leaves` as one level of `width` x `height` (consistent in every other field). */
function imageRootOver (base: BaseDag, leaves: Array<{ cid: CID, size: number }>, width: number, height: number, bitDepth: number): any {
  const n = decoded(base, base.image.cid)
  const total = leaves.reduce((a, l) => a + l.size, 0)
  return {
    ...n,
    width,
    height,
    bitsStored: Math.min(n.bitsStored, bitDepth),
    codestream: { ...n.codestream, decompositions: 0, bitDepth, length: total + 2 },
    leaves,
    levels: [{ level: 0, width, height, end: total, leaves: leaves.length, file: n.levels[0].file, bytes: total + 2 }]
  }
}

async function wrapInDataset (base: BaseDag, root: CID, kind: 'image' | 'volume', extra: Block[]): Promise<CID> {
  const ds = structuredCloneCbor(base.dataset.node)
  ds.entries.find((x: any) => x.kind === kind).root = root
  const b = await cbor(ds)
  extra.push(b)
  return b.cid
}

/** leaves: image roots that repeat one leaf (2 to 8192 times), or list distinct leaves adding up to more than their pixels justify, or both. */
export function leavesCaseArb (base: BaseDag): fc.Arbitrary<Promise<FuzzCase>> {
  return fc.record({
    shape: fc.constantFrom('repeat', 'repeat', 'oversize', 'near-bound', 'repeat-real'),
    copies: fc.constantFrom(2, 3, 17, 1000, 8192),
    count: fc.integer({ min: 1, max: 8 }),
    leafBytes: fc.constantFrom(1, 100, 4096, 65536, 262144, 1048576),
    side: fc.constantFrom(1, 2, 7, 64, 181, 512, 65535),
    bits: fc.integer({ min: 1, max: 16 }),
    slack: fc.integer({ min: -64, max: 64 }),
    wrap: fc.boolean(),
    level: fc.oneof(fc.constant(undefined), fc.constantFrom(0, 1, 3))
  }).map(async ({ shape, copies, count, leafBytes, side, bits, slack, wrap, level }) => {
    const extra: Block[] = []
    const how: string[] = [shape]
    let leaves: Array<{ cid: CID, size: number }>
    let width = side
    let height = side
    if (shape === 'repeat-real') {
      // the base image's own leaves with its first one listed `copies` times
      const n = decoded(base, base.image.cid)
      leaves = [...Array.from({ length: copies }, () => n.leaves[0]), ...n.leaves.slice(1)]
      width = n.width
      height = n.height
      bits = n.codestream.bitDepth
      how.push(`${copies}x leaf 0 of the base image`)
    } else if (shape === 'repeat') {
      const leaf = await rawLeaf(new Uint8Array(Math.min(leafBytes, 65536)).fill(0x5a))
      extra.push(leaf)
      leaves = Array.from({ length: copies }, () => ({ cid: leaf.cid, size: leaf.bytes.byteLength }))
      how.push(`${copies}x one ${leaf.bytes.byteLength} B leaf, ${side}x${side} ${bits} bits`)
    } else {
      // distinct leaves; 'near-bound' sizes them around what the declared pixels allow
      const allowed = 2 * side * side * Math.ceil(bits / 8) + 64 + 16
      const total = shape === 'near-bound' ? Math.max(1, Math.min(8 * 1048576, allowed + slack)) : Math.min(8 * 1048576, count * leafBytes)
      const pieces = Math.max(1, Math.ceil(total / 1048576))
      leaves = []
      for (let i = 0, left = total; i < pieces; i++) {
        const size = Math.ceil(left / (pieces - i))
        const b = new Uint8Array(size)
        b.fill(i + 1)
        b[0] = 0xff; b[1] = 0x4f; b[2] = 0xff; b[3] = 0x51
        const leaf = await rawLeaf(b)
        extra.push(leaf)
        leaves.push({ cid: leaf.cid, size })
        left -= size
      }
      how.push(`${leaves.length} distinct leaves of ${total} B for ${side}x${side} ${bits} bits (allowed ${allowed})`)
    }
    const rootBlock = await cbor(imageRootOver(base, leaves, width, height, bits))
    extra.push(rootBlock)
    let root = rootBlock.cid
    if (wrap) { root = await wrapInDataset(base, root, 'image', extra); how.push('in dataset') }
    return { kind: 'leaves' as const, blocks: extra.map(b => ({ cid: b.cid.toString(), bytes: b.bytes })), root: root.toString(), level, how: how.join(' ') }
  })
}

/** shards: volume roots repeating a shard (up to 4096 x 4096 slices), repeating slice roots, or lying about depth or slice size. */
export function shardsCaseArb (base: BaseDag): fc.Arbitrary<Promise<FuzzCase>> {
  return fc.record({
    shape: fc.constantFrom('repeat-shard', 'repeat-shard', 'repeat-slices', 'depth-lie', 'size-lie', 'bad-first', 'short-shard'),
    shards: fc.constantFrom(2, 3, 64, 4096),
    perShard: fc.constantFrom(1, 2, 4096),
    slices: fc.integer({ min: 1, max: 40 }),
    dz: fc.constantFrom(-1, 1, 1000, 16_777_216),
    side: fc.constantFrom(1, 8, 4096, 65535),
    wrap: fc.boolean(),
    format: fc.constantFrom(undefined, 'nii', 'npy', 'dcm', 'j2c'),
    level: fc.oneof(fc.constant(undefined), fc.constantFrom(0, 1, 2))
  }).map(async ({ shape, shards, perShard, slices, dz, side, wrap, format, level }) => {
    const extra: Block[] = []
    const how: string[] = [shape]
    const vol = base.volume.node
    const slice0 = vol.slices[0]
    const { slices: _inline, ...rest } = vol
    let node: any
    if (shape === 'repeat-shard' || shape === 'bad-first' || shape === 'short-shard') {
      // one shard node listed `shards` times (repeat), or distinct shards that lie about their place or size
      const blocks: Block[] = []
      const count = shape === 'repeat-shard' ? perShard : SLICES_PER_SHARD
      const total = shape === 'repeat-shard' ? shards * perShard : SLICES_PER_SHARD + 1
      if (shape === 'repeat-shard') {
        blocks.push(await cbor({ mist: 'slices', version: 1, slices: Array.from({ length: perShard }, () => slice0) }))
      } else {
        // the lie is in shard 0, so it is found before thousands of slices are decoded
        blocks.push(await cbor({ mist: 'slices', version: 1, first: shape === 'bad-first' ? 5 : 0, slices: Array.from({ length: shape === 'short-shard' ? count - 1 : count }, () => slice0) }))
        blocks.push(await cbor({ mist: 'slices', version: 1, first: SLICES_PER_SHARD, slices: [slice0] }))
      }
      extra.push(...blocks)
      const list = shape === 'repeat-shard' ? Array.from({ length: shards }, () => ({ cid: blocks[0].cid, count: perShard })) : [{ cid: blocks[0].cid, count }, { cid: blocks[1].cid, count: 1 }]
      node = { ...rest, meta: { ...vol.meta, dims: [vol.meta.dims[0], vol.meta.dims[1], total] }, sliceCount: total, shards: list }
      how.push(shape === 'repeat-shard' ? `${shards} x one shard of ${perShard}` : `${total} slices`)
    } else if (shape === 'repeat-slices') {
      // honest: identical slices have one root
      node = { ...vol, meta: { ...vol.meta, dims: [vol.meta.dims[0], vol.meta.dims[1], slices] }, sliceCount: slices, slices: Array.from({ length: slices }, () => slice0) }
      how.push(`${slices} x slice 0`)
    } else if (shape === 'depth-lie') {
      node = { ...vol, meta: { ...vol.meta, dims: [vol.meta.dims[0], vol.meta.dims[1], Math.max(1, vol.sliceCount + dz)] } }
      how.push(`dims[2] ${Math.max(1, vol.sliceCount + dz)}`)
    } else {
      // the volume says its slices are side x side
      node = { ...vol, meta: { ...vol.meta, dims: [side, side, vol.sliceCount] }, levels: vol.levels.map((l: any, k: number) => ({ ...l, width: levelExtent(side, 0, vol.levels.length - 1, k), height: levelExtent(side, 0, vol.levels.length - 1, k) })) }
      how.push(`slices claimed ${side}x${side}`)
    }
    const rootBlock = await cbor(node)
    extra.push(rootBlock)
    let root = rootBlock.cid
    if (wrap) { root = await wrapInDataset(base, root, 'volume', extra); how.push('in dataset') }
    if (format != null) how.push(`--format ${format}`)
    return { kind: 'shards' as const, blocks: extra.map(b => ({ cid: b.cid.toString(), bytes: b.bytes })), root: root.toString(), level, format, how: how.join(' ') }
  })
}

const HOSTILE_NAMES = [
  '...png', '..png', '.png', '...nii.gz', '..nii', '...dcm', '.', '..', 'a/..', 'a/../b.png', 'a/./b.png', 'a//b.png', '/abs.png', 'a\\b.png',
  'scan', 'scan.png', 'scan.PNG', 'Scan.png', 'scan.png.png', 'scan~2.png', 'scan.nii', 'scan.nii.gz', 'scan.dcm', 'scan.j2c', 'scan.npy',
  'A.png', 'a', 'a.png', 'a.png/b.png', 'a/b.png', 'A/b.png', 'a.nii/slice-0000.dcm', 'sub/x.png', 'sub/deeper/y.png',
  'x\u202egnp.exe', 'y\u2066.png', 'z\u0085.png', 'nl\n.png', 'caf\u00e9.png', 'cafe\u0301.png', 'fmri.nii.gz#t0', 'fmri#t0.nii', 'x'.repeat(300) + '.png'
]

/** names: dataset roots (built without the builder's checks) whose entry names are hostile, colliding or unusual, in any output format. */
export function namesCaseArb (base: BaseDag): fc.Arbitrary<Promise<FuzzCase>> {
  return fc.record({
    picks: fc.array(fc.record({ i: fc.nat({ max: HOSTILE_NAMES.length - 1 }), volume: fc.boolean(), suffix: fc.constantFrom('', '', '.png', '.nii.gz', '/x.png', '.dcm') }), { minLength: 1, maxLength: 8 }),
    sorted: fc.constantFrom(true, true, true, false),
    format: fc.constantFrom(undefined, undefined, 'png', 'nii', 'dcm', 'j2c', 'npy'),
    level: fc.oneof(fc.constant(undefined), fc.constantFrom(0, 1, 3))
  }).map(async ({ picks, sorted, format, level }) => {
    const image = { root: base.image.cid, levels: decoded(base, base.image.cid).levels.map((l: any) => ({ level: l.level, width: l.width, height: l.height, bytes: l.bytes })) }
    const volume = { root: base.volume.cid, levels: base.volume.node.levels }
    const byName = new Map<string, { name: string, root: CID, kind: 'image' | 'volume', levels: any[] }>()
    for (const p of picks) {
      const name = HOSTILE_NAMES[p.i] + p.suffix
      const v = p.volume ? volume : image
      byName.set(name, { name, root: v.root, kind: p.volume ? 'volume' : 'image', levels: v.levels })
    }
    const entries = [...byName.values()]
    if (sorted) entries.sort((a, b) => compareNames(a.name, b.name))
    const { levels, total } = datasetLevels(entries)
    const block = await cbor({ mist: 'dataset', version: 1, count: entries.length, levels, total, entries: entries.map(e => ({ name: e.name, root: e.root, kind: e.kind })) })
    return { kind: 'names' as const, blocks: [{ cid: block.cid.toString(), bytes: block.bytes }], root: block.cid.toString(), level, format, how: `${entries.map(e => JSON.stringify(e.name) + (e.kind === 'volume' ? '(v)' : '')).join(' ')}${sorted ? '' : ' unsorted'}${format != null ? ` --format ${format}` : ''}` }
  })
}

// ---------------------------------------------------------------- running a kind

export interface KindStats {
  kind: Kind
  cases: number
  ok: number
  /** Clean errors by class name. */
  errors: Record<string, number>
  /** The first 50 violations... */
  violations: Array<{ outcome: string, how: string, name: string, message: string, file?: string }>
  /** ...and how many there were. */
  violationCount: number
  maxMs: number
  totalMs: number
}

export async function runKind (kind: Kind, arb: fc.Arbitrary<FuzzCase | Promise<FuzzCase>>, runner: FuzzRunner, options: { cases: number, seed: number, saveDir?: string, deadlineMs?: number }): Promise<KindStats> {
  const stats: KindStats = { kind, cases: 0, ok: 0, errors: {}, violations: [], violationCount: 0, maxMs: 0, totalMs: 0 }
  const batch = 200
  const deadline = options.deadlineMs != null ? Date.now() + options.deadlineMs : Infinity
  for (let done = 0, b = 0; done < options.cases && Date.now() < deadline; b++) {
    const n = Math.min(batch, options.cases - done)
    const sample = fc.sample(arb, { numRuns: n, seed: options.seed + b * 7919 })
    for (const item of sample) {
      if (Date.now() >= deadline) break
      const c = await item
      const r = await runner.run(c)
      stats.cases++
      stats.totalMs += r.ms
      stats.maxMs = Math.max(stats.maxMs, r.ms)
      if (r.outcome === 'ok') stats.ok++
      else if (r.outcome === 'error') stats.errors[r.name] = (stats.errors[r.name] ?? 0) + 1
      else {
        let file: string | undefined
        if (options.saveDir != null && c.bytes != null) {
          mkdirSync(options.saveDir, { recursive: true })
          file = join(options.saveDir, `${kind}-${options.seed}-${b}-${stats.cases}${c.ext ?? '.bin'}`)
          writeFileSync(file, c.bytes)
        }
        stats.violationCount++
        if (stats.violations.length < 50) stats.violations.push({ outcome: r.outcome, how: c.how.slice(0, 300), name: r.name, message: r.message.slice(0, 800), file })
      }
    }
    done += n
  }
  return stats
}

export { pathToFileURL }
