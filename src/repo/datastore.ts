import { chmod } from 'node:fs/promises'
import { dirname } from 'node:path'
import { FsDatastore } from 'datastore-fs'
import type { Key } from 'interface-datastore'
import { makePrivateDir, PRIVATE_DIR_MODE, PRIVATE_FILE_MODE } from './private-fs.js'
import type { AbortOptions } from '../types.js'

/**
 * datastore-fs with private files: it writes through a temp file and a rename with the umask's
 * modes, so each file written is set to 0600 and each directory it made to 0700 (inside the
 * repo's own 0700 directory, so nothing is reachable by others in between).
 */
export class PrivateDatastore extends FsDatastore {
  private readonly privateDirs = new Set<string>()

  override async open (): Promise<void> {
    await makePrivateDir(this.path)
    this.privateDirs.add(this.path)
    await super.open()
  }

  override async put (key: Key, val: Uint8Array, options?: AbortOptions): Promise<Key> {
    await super.put(key, val, options)
    const { file } = this._encode(key)
    await chmod(file, PRIVATE_FILE_MODE).catch(ignoreGone)
    for (let dir = dirname(file); dir.startsWith(this.path) && !this.privateDirs.has(dir); dir = dirname(dir)) {
      await chmod(dir, PRIVATE_DIR_MODE).catch(ignoreGone)
      this.privateDirs.add(dir)
    }
    return key
  }
}

/** A concurrent delete removed it: nothing to protect. */
function ignoreGone (err: any): void {
  if (err?.code !== 'ENOENT') throw err
}
