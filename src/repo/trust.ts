/**
 * Before a command trusts what it finds in a repo (a lock naming the daemon, the daemon's control
 * socket), both must be the current user's and out of other users' reach: someone who can write
 * the repo could otherwise plant a lock naming a live pid and a socket of their own, and receive
 * the user's blocks while the command reports success.
 */
import { lstat } from 'node:fs/promises'
import { dirname } from 'node:path'
import { UnsafeRepoError } from '../errors.js'
import { othersWithAccess, writableByOthers } from './private-fs.js'

const mode = (m: number): string => (m & 0o777).toString(8).padStart(3, '0')

/** The current user's uid, or undefined where there is none (Windows). */
function currentUid (): number | undefined {
  return typeof process.getuid === 'function' ? process.getuid() : undefined
}

/** Throws UnsafeRepoError unless the repo directory holding `file` is the user's and not writable by others. */
export async function checkRepoDirTrusted (repoPath: string, what: string): Promise<void> {
  const uid = currentUid()
  if (uid == null) return
  const info = await lstat(repoPath)
  if (info.uid !== uid) {
    throw new UnsafeRepoError(`${repoPath} belongs to uid ${info.uid}, not to you (uid ${uid}): its ${what} is not trusted. Use a repo of your own (--repo DIR)`)
  }
  if (writableByOthers(info.mode)) {
    throw new UnsafeRepoError(`${repoPath} is writable by ${othersWithAccess(info.mode & 0o022) ?? 'others'} (mode ${mode(info.mode)}): anyone who can write it could have planted its ${what}, so it is not trusted. Make the repo private (chmod -R go-rwx ${repoPath}) and check who created ${what}`)
  }
}

/**
 * Throws UnsafeRepoError unless `file` (repo.lock, api.sock) is the user's own, is not a symlink,
 * is of the expected kind, and (`private`) no one else may read or write it; and its repo directory
 * passes checkRepoDirTrusted.
 */
export async function checkRepoFileTrusted (file: string, kind: 'file' | 'socket', options: { private: boolean }): Promise<void> {
  const uid = currentUid()
  if (uid == null) return
  const info = await lstat(file)
  if (info.isSymbolicLink()) throw new UnsafeRepoError(`${file} is a symbolic link: it is not trusted (a mist-p2p repo never holds one). Remove it after checking who created it`)
  if (kind === 'socket' ? !info.isSocket() : !info.isFile()) throw new UnsafeRepoError(`${file} is not a ${kind === 'socket' ? 'Unix socket' : 'regular file'}: it is not trusted. Remove it after checking who created it`)
  if (info.uid !== uid) {
    throw new UnsafeRepoError(`${file} belongs to uid ${info.uid}, not to you (uid ${uid}): another user has written into this repo, so it is not trusted. Remove it after checking, and make the repo private (chmod -R go-rwx ${dirname(file)})`)
  }
  const who = othersWithAccess(info.mode)
  if (options.private && who != null) {
    throw new UnsafeRepoError(`${file} is reachable by ${who} (mode ${mode(info.mode)}): it is not trusted (the daemon makes it 0600). Stop whoever created it, remove it, and restart \`mist-p2p serve\``)
  }
  await checkRepoDirTrusted(dirname(file), kind === 'socket' ? 'control socket' : 'lock')
}
