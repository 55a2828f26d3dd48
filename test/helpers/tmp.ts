import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A fresh temporary directory, removed by the returned cleanup. */
export async function tempDir (prefix = 'mist-test-'): Promise<{ dir: string, cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  return { dir, cleanup: async () => rm(dir, { recursive: true, force: true }) }
}
