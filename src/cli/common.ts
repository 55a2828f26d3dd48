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
  process.stdout.write(JSON.stringify(value, (_k, v) => (v instanceof CID ? v.toString() : v), 2) + '\n')
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
