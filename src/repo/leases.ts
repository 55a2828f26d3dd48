/**
 * Pending-write leases: `<repo>/pending/<pid>-<random>.lease`, created by a process before it
 * writes or relies on the first block of a pin or mirror it has not recorded yet, and removed
 * once it is done. `gc` spares every block used since the oldest live lease began (its file's
 * mtime, in the same clock as the block files'), so a pin in progress never loses a block.
 * A lease whose process is gone (kill -9) is stale and removed by the next gc.
 */
import { randomBytes } from 'node:crypto'
import { lstat, open, readdir, readFile, rename, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { isAlive } from './lock.js'
import { makePrivateDir, PRIVATE_FILE_MODE } from './private-fs.js'

export const LEASE_DIR = 'pending'
const SUFFIX = '.lease'
/** A lease file larger than this is not ours: read no more of it. */
const MAX_LEASE_BYTES = 4096
/** An unreadable lease younger than this may be one being written: it counts as live. */
const UNREADABLE_GRACE_MS = 60_000

export interface LeaseInfo { pid: number, command: string, since: string }

export interface Lease {
  file: string
  release: () => Promise<void>
}

/** Creates a lease for this process (written to a temp name, then renamed: never seen half-written). */
export async function openLease (repoPath: string, command: string): Promise<Lease> {
  const dir = join(repoPath, LEASE_DIR)
  await makePrivateDir(dir)
  const name = `${process.pid}-${randomBytes(6).toString('hex')}`
  const file = join(dir, name + SUFFIX)
  const tmp = join(dir, `.${name}.tmp`)
  const info: LeaseInfo = { pid: process.pid, command, since: new Date().toISOString() }
  const handle = await open(tmp, 'wx', PRIVATE_FILE_MODE)
  try { await handle.writeFile(JSON.stringify(info)) } finally { await handle.close() }
  await rename(tmp, file)
  let released = false
  return {
    file,
    release: async () => {
      if (released) return
      released = true
      await unlink(file).catch(() => {})
    }
  }
}

/** The live leases of a repo with their files' mtimes; stale ones (their process is gone) are removed. */
export async function listLeases (repoPath: string): Promise<Array<{ file: string, info?: LeaseInfo, mtimeMs: number }>> {
  const dir = join(repoPath, LEASE_DIR)
  const names = await readdir(dir).catch((err: any) => { if (err?.code === 'ENOENT') return [] as string[]; throw err })
  const live: Array<{ file: string, info?: LeaseInfo, mtimeMs: number }> = []
  for (const name of names) {
    if (!name.endsWith(SUFFIX)) continue
    const file = join(dir, name)
    const st = await lstat(file).catch(() => undefined)
    if (st == null) continue // released meanwhile
    let info: LeaseInfo | undefined
    if (st.isFile() && st.size <= MAX_LEASE_BYTES) {
      try {
        const parsed = JSON.parse(await readFile(file, 'utf8'))
        if (Number.isSafeInteger(parsed?.pid) && parsed.pid > 0) info = { pid: parsed.pid, command: String(parsed.command), since: String(parsed.since) }
      } catch {}
    }
    const stale = info != null ? !isAlive(info.pid) : Date.now() - st.mtimeMs > UNREADABLE_GRACE_MS
    if (stale) { await unlink(file).catch(() => {}); continue }
    live.push({ file, info, mtimeMs: st.mtimeMs })
  }
  return live
}
