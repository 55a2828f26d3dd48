import { open, readFile, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { RepoBusyError, RepoError } from '../errors.js'
import { checkRepoFileTrusted } from './trust.js'

/** What a lock file records about its holder. */
export interface LockInfo {
  pid: number
  command: string
  since: string
}

/** Whether a process with this pid exists (EPERM: it does, under another user). */
export function isAlive (pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch (err: any) {
    return err?.code === 'EPERM'
  }
}

/**
 * An exclusive lock on a repo: a `repo.lock` file created with O_EXCL holding the
 * holder's pid and command. A lock left by a dead process (kill -9, power loss) is
 * taken over; a live holder makes the caller fail with a message naming it.
 */
export class RepoLock {
  private constructor (readonly file: string, readonly info: LockInfo) {}

  static async acquire (repoPath: string, command: string): Promise<RepoLock> {
    const file = join(repoPath, 'repo.lock')
    const info: LockInfo = { pid: process.pid, command, since: new Date().toISOString() }
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        const handle = await open(file, 'wx', 0o600)
        await handle.writeFile(JSON.stringify(info))
        await handle.close()
        return new RepoLock(file, info)
      } catch (err: any) {
        if (err?.code !== 'EEXIST') {
          throw new RepoError(`${repoPath}: cannot create the repo lock ${file}: ${err?.message ?? err}`, { cause: err })
        }
      }
      // a lock someone else planted (or any lock in a repo others can write) is not believed
      await checkRepoFileTrusted(file, 'file', { private: false }).catch(err => { if (err?.code !== 'ENOENT') throw err })
      const holder = await readLock(file)
      if (holder != null && holder.pid !== process.pid && isAlive(holder.pid)) {
        throw new RepoBusyError(`${repoPath} is in use by \`mist-p2p ${holder.command}\` (pid ${holder.pid}, since ${holder.since}). ` +
          'Wait for it to finish or stop it, or use another --repo.', holder)
      }
      // stale lock of a dead process (or unreadable): remove and retry
      await unlink(file).catch(() => {})
    }
    throw new RepoError(`${repoPath}: could not take the repo lock ${file}; another process keeps taking it`)
  }

  async release (): Promise<void> {
    const holder = await readLock(this.file)
    if (holder?.pid === this.info.pid) await unlink(this.file).catch(() => {})
  }
}

async function readLock (file: string): Promise<LockInfo | undefined> {
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8'))
    if (typeof parsed?.pid === 'number') return parsed as LockInfo
  } catch {}
  return undefined
}
