import { once, setMaxListeners } from 'node:events'
import { CID } from 'multiformats/cid'
import { UsageError } from '../errors.js'
import { Repo } from '../repo/index.js'

/** Options every command takes. */
export interface CommonOptions {
  repo?: string
  json?: boolean
}

/** `<cid>` or `<cid>/<path in the dataset>` (the path selects one entry or sub-directory). */
export function parseTarget (value: string): { cid: CID, path?: string } {
  const text = value.trim()
  const slash = text.indexOf('/')
  if (slash < 0) return { cid: parseCid(text) }
  const path = text.slice(slash + 1).replace(/\/+$/, '')
  return path === '' ? { cid: parseCid(text.slice(0, slash)) } : { cid: parseCid(text.slice(0, slash)), path }
}

export function parseCid (value: string): CID {
  try {
    return CID.parse(value.trim())
  } catch (err: any) {
    throw new UsageError(`"${value}" is not a CID (${err?.message ?? err}); give the root CID that publish printed`)
  }
}

export async function withRepo<T> (options: CommonOptions & { create?: boolean }, command: string, fn: (repo: Repo) => Promise<T>): Promise<T> {
  const repo = await Repo.open({ path: options.repo, create: options.create, command })
  try {
    return await fn(repo)
  } finally {
    await repo.close()
  }
}

/** Writes one JSON document to stdout (CIDs as strings). */
export function printJson (value: unknown): void {
  jsonText(value, chunk => { process.stdout.write(chunk) })
}

/**
 * printJson for a document with long lists (an archive's publish or get), waiting whenever stdout
 * is a pipe whose reader is behind: written in one burst, the whole document would queue in this
 * process's memory (a 100,000-image publish's 52 MB of JSON doubled its peak).
 */
export async function printJsonPaced (value: unknown, out: NodeJS.WritableStream = process.stdout): Promise<void> {
  let batch = ''
  const flush = async (): Promise<void> => {
    const text = batch
    batch = ''
    if (text !== '' && !out.write(text)) await once(out, 'drain')
  }
  for (const chunk of jsonChunks(value)) {
    batch += chunk
    if (batch.length >= 64 * 1024) await flush()
  }
  await flush()
}

const cidsAsText = (_k: string, v: unknown): unknown => (v instanceof CID ? v.toString() : v)

/**
 * An array written an element at a time by jsonText (made one element at a time by `each`),
 * so that a long list (an archive's published items) is never held as objects or one string.
 */
export class JsonList<T> {
  constructor (readonly length: number, readonly each: () => Iterable<T>) {}
  toJSON (): T[] { return [...this.each()] }
}

/**
 * `JSON.stringify(value, …, 2)` plus a newline, byte for byte, but an object's long arrays (the
 * images of an archive's publish, the outputs of its get) and its JsonLists are written an
 * element at a time, so a 100,000-entry result never becomes one string.
 */
export function jsonText (value: unknown, write?: (chunk: string) => void): string {
  const out: string[] = []
  for (const chunk of jsonChunks(value)) {
    if (write !== undefined) write(chunk)
    else out.push(chunk)
  }
  return out.join('')
}

/** jsonText's chunks, made as they are taken. */
export function * jsonChunks (value: unknown): Generator<string> {
  const isPlainObject = value != null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof CID) && typeof (value as any).toJSON !== 'function'
  const streamed = (v: unknown): v is unknown[] | JsonList<unknown> => (Array.isArray(v) && v.length > 256) || v instanceof JsonList
  if (!isPlainObject || !Object.values(value as object).some(streamed)) {
    yield JSON.stringify(value, cidsAsText, 2) + '\n'
    return
  }
  const fields = Object.entries(value as object).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol')
  yield fields.length === 0 ? '{}\n' : '{\n'
  for (const [i, [k, v]] of fields.entries()) {
    const end = i < fields.length - 1 ? ',\n' : '\n'
    if ((Array.isArray(v) || v instanceof JsonList) && v.length > 0) {
      yield `  ${JSON.stringify(k)}: [\n`
      let j = 0
      for (const el of Array.isArray(v) ? v : v.each()) {
        yield '    ' + (JSON.stringify(el, cidsAsText, 2) ?? 'null').replace(/\n/g, '\n    ') + (j < v.length - 1 ? ',\n' : '\n')
        j++
      }
      yield '  ]' + end
    } else {
      yield `  ${JSON.stringify(k)}: ${JSON.stringify(v, cidsAsText, 2).replace(/\n/g, '\n  ')}${end}`
    }
  }
  if (fields.length > 0) yield '}\n'
}

/** SIGINT/SIGTERM abort the running command cleanly (temp files removed, lock released). */
export function abortOnSignals (): { signal: AbortSignal, dispose: () => void } {
  const controller = new AbortController()
  // every block fetch and codec job listens on this one signal
  setMaxListeners(Infinity, controller.signal)
  const onSignal = (): void => controller.abort(new UsageError('interrupted'))
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
  return { signal: controller.signal, dispose: () => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal) } }
}
