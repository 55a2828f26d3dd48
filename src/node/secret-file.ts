/**
 * Small helpers for secret files in the repo (identity.key, swarm.key):
 * atomic writes with mode 0600 and a permission check on read.
 */
import { randomBytes } from 'node:crypto'
import { link, mkdir, open, rename, stat, unlink } from 'node:fs/promises'
import { dirname, basename, join } from 'node:path'

export interface SecretFileReadOptions {
  /**
   * Accept a secret file readable or writable by group/others, with a warning
   * (through `onWarning`) instead of an error. Default false: refuse, as ssh does.
   */
  allowInsecurePermissions?: boolean
  /** Where warnings go; default `process.emitWarning`. */
  onWarning?: (message: string) => void
}

/**
 * Returns a message describing why `mode` is unsafe for a secret file, or undefined when it is fine.
 * Only checked on POSIX systems (Windows reports synthetic modes).
 */
export function insecureModeProblem (file: string, mode: number): string | undefined {
  if (process.platform === 'win32') return undefined
  const loose = mode & 0o077
  if (loose === 0) return undefined
  const who = [(loose & 0o070) !== 0 ? 'group' : '', (loose & 0o007) !== 0 ? 'others' : ''].filter(Boolean).join(' and ')
  return `${file} is accessible by ${who} (mode ${(mode & 0o777).toString(8).padStart(3, '0')}); it must be private to its owner: chmod 600 ${file}`
}

/** Checks the permissions of an existing secret file: throws `makeError(message)` or warns. */
export async function checkSecretFileMode (file: string, options: SecretFileReadOptions, makeError: (message: string) => Error): Promise<void> {
  const info = await stat(file)
  const problem = insecureModeProblem(file, info.mode)
  if (problem == null) return
  if (options.allowInsecurePermissions === true) {
    (options.onWarning ?? ((m: string) => { process.emitWarning(m, 'MistSecurityWarning') }))(problem)
    return
  }
  throw makeError(problem)
}

/**
 * Writes `bytes` to `file` atomically with mode 0600: a temporary file in the same directory
 * (created 0600, fsynced), then renamed over `file` (or, with `exclusive`, hard-linked so an
 * existing file is never replaced: EEXIST is thrown instead). The directory is created if needed.
 */
export async function writeSecretFile (file: string, bytes: Uint8Array, options: { exclusive?: boolean } = {}): Promise<void> {
  const dir = dirname(file)
  await mkdir(dir, { recursive: true, mode: 0o700 })
  const tmp = join(dir, `.${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`)
  const handle = await open(tmp, 'wx', 0o600)
  try {
    try {
      await handle.chmod(0o600) // in case the umask interfered
      await handle.writeFile(bytes)
      await handle.sync()
    } finally {
      await handle.close()
    }
    if (options.exclusive === true) {
      await link(tmp, file) // EEXIST if someone else created it meanwhile
      await unlink(tmp)
    } else {
      await rename(tmp, file)
    }
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
  // make the rename durable
  const dirHandle = await open(dir, 'r').catch(() => undefined)
  if (dirHandle != null) {
    await dirHandle.sync().catch(() => {})
    await dirHandle.close()
  }
}
