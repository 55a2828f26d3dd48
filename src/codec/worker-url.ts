/**
 * Where the codec worker's JavaScript lives.
 *
 * Node 20 cannot run TypeScript in a worker thread. Compiled (dist/src/codec/
 * worker-url.js) the worker is the sibling worker.js. Run from TypeScript
 * sources (vitest), it is the compiled dist/src/codec/worker.js of the same
 * checkout, which `npm run build` produces.
 */
import { existsSync, readdirSync, statSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { CodecError } from '../errors.js'

/** URL of the worker script; throws CodecError if the compiled worker is missing. */
export function resolveWorkerUrl (): URL {
  const fromSources = import.meta.url.endsWith('.ts')
  const url = fromSources
    ? new URL('../../dist/src/codec/worker.js', import.meta.url)
    : new URL('./worker.js', import.meta.url)
  if (!existsSync(fileURLToPath(url))) {
    throw new CodecError(`codec worker not found at ${fileURLToPath(url)}: run \`npm run build\` to compile it${fromSources ? ' (worker threads run the compiled JavaScript, even when the caller runs from TypeScript sources)' : ''}`)
  }
  if (fromSources) warnIfStale(fileURLToPath(url), fileURLToPath(new URL('.', import.meta.url)))
  return url
}

/** Warn (each time a pool is created) when a src/codec source is newer than the compiled worker: tests would run old code. */
function warnIfStale (compiled: string, sourceDir: string): void {
  const builtAt = statSync(compiled).mtimeMs
  const newer = readdirSync(sourceDir).filter((f) => f.endsWith('.ts') && statSync(`${sourceDir}/${f}`).mtimeMs > builtAt)
  if (newer.length > 0) {
    process.emitWarning(`the compiled codec worker ${compiled} is older than src/codec/${newer.join(', ')}: run \`npm run build\` (workers run the compiled code)`, { code: 'MIST_STALE_WORKER' })
  }
}

/**
 * The URL a worker can import for a job module (CodecPool.runJob): the module itself when
 * compiled; run from TypeScript sources, its compiled twin under dist/ of the same checkout.
 */
export function jobModuleUrl (moduleUrl: string): string {
  if (!moduleUrl.endsWith('.ts')) return moduleUrl
  const at = moduleUrl.lastIndexOf('/src/')
  if (at < 0) throw new CodecError(`job module ${moduleUrl} is not under src/: workers run compiled JavaScript`)
  return `${moduleUrl.slice(0, at)}/dist/src/${moduleUrl.slice(at + 5, -3)}.js`
}
