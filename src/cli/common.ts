import { setMaxListeners } from 'node:events'
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
  const emit = write ?? ((chunk: string) => { out.push(chunk) })
  const isPlainObject = value != null && typeof value === 'object' && !Array.isArray(value) && !(value instanceof CID) && typeof (value as any).toJSON !== 'function'
  const streamed = (v: unknown): v is unknown[] | JsonList<unknown> => (Array.isArray(v) && v.length > 256) || v instanceof JsonList
  if (!isPlainObject || !Object.values(value as object).some(streamed)) {
    emit(JSON.stringify(value, cidsAsText, 2) + '\n')
  } else {
    const fields = Object.entries(value as object).filter(([, v]) => v !== undefined && typeof v !== 'function' && typeof v !== 'symbol')
    emit(fields.length === 0 ? '{}\n' : '{\n')
    fields.forEach(([k, v], i) => {
      const end = i < fields.length - 1 ? ',\n' : '\n'
      if ((Array.isArray(v) || v instanceof JsonList) && v.length > 0) {
        emit(`  ${JSON.stringify(k)}: [\n`)
        let j = 0
        for (const el of Array.isArray(v) ? v : v.each()) {
          emit('    ' + (JSON.stringify(el, cidsAsText, 2) ?? 'null').replace(/\n/g, '\n    ') + (j < v.length - 1 ? ',\n' : '\n'))
          j++
        }
        emit('  ]' + end)
      } else {
        emit(`  ${JSON.stringify(k)}: ${JSON.stringify(v, cidsAsText, 2).replace(/\n/g, '\n  ')}${end}`)
      }
    })
    if (fields.length > 0) emit('}\n')
  }
  return out.join('')
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
