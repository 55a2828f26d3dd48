/**
 * The repo is private to its owner: its directory and every directory in it 0700, its files
 * 0600, whatever the umask (the blocks, pins and keys would let any local user rebuild every
 * image). Creation modes only ever remove bits under a umask, so they are set at creation and
 * the directories made here are chmod-ed to exactly 0700.
 */
import { chmod, mkdir, stat } from 'node:fs/promises'

export const PRIVATE_DIR_MODE = 0o700
export const PRIVATE_FILE_MODE = 0o600

/** Creates `dir` (and missing parents: mode 0700 too) and sets it to exactly 0700. */
export async function makePrivateDir (dir: string): Promise<void> {
  await mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE })
  await chmod(dir, PRIVATE_DIR_MODE)
}

/** "group and others" / "others" / undefined: who besides the owner may use a file of this mode. */
export function othersWithAccess (mode: number): string | undefined {
  if (process.platform === 'win32') return undefined
  const group = (mode & 0o070) !== 0
  const others = (mode & 0o007) !== 0
  if (!group && !others) return undefined
  return group && others ? 'group and others' : group ? 'group' : 'others'
}

/** Whether group or others may write (create, remove, rename entries in) this directory. */
export function writableByOthers (mode: number): boolean {
  return process.platform !== 'win32' && (mode & 0o022) !== 0
}

/**
 * Warnings for an existing repo that others can read or write: its directory and the
 * blocks/, datastore/ and config.json in it. Nothing is changed: the fix is the owner's call.
 */
export async function repoPermissionWarnings (repoPath: string): Promise<string[]> {
  const out: string[] = []
  for (const entry of ['', 'blocks', 'datastore', 'config.json']) {
    const p = entry === '' ? repoPath : `${repoPath}/${entry}`
    const info = await stat(p).catch(() => undefined)
    if (info == null) continue
    const who = othersWithAccess(info.mode)
    if (who == null) continue
    const what = (info.mode & 0o022) !== 0 ? 'readable and writable' : 'readable'
    out.push(`${p} is ${what} by ${who} (mode ${(info.mode & 0o777).toString(8).padStart(3, '0')}): other local users can read the repo's blocks and rebuild its images${(info.mode & 0o022) !== 0 ? ', or plant files in it' : ''}. Make it private: chmod -R go-rwx ${repoPath}`)
    break // one warning names the fix for the whole repo
  }
  return out
}
