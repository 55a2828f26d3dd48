/**
 * readRoot keeps decoded roots per network source (a get over the network reads each root to
 * fetch its level and again to decode it), and never for a local repo, whose reads must see
 * the disk as it is (verify, pin checks, after a gc).
 */
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { readRoot } from '../../src/level/index.js'
import { publish } from '../../src/publish/index.js'
import { Repo } from '../../src/repo/index.js'
import { CountingSource } from '../helpers/counting-source.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>
let repo: Repo

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-roots-'))
  await writeFile(join(dir, 'a.png'), encodePng(synthesizeImage(40, 30, 8, false, 1, 9)))
  repo = await Repo.open({ path: join(dir, 'repo'), create: true })
})

afterAll(async () => {
  await repo?.close()
  await cleanup?.()
})

class RemoteCounting extends CountingSource { readonly remote = true }

describe('readRoot', () => {
  it('reads a root once per network source, and every time from a local one', async () => {
    const { root } = await publish([join(dir, 'a.png')], { repo })
    const remote = new RemoteCounting(repo)
    const first = await readRoot(remote, root!)
    expect(await readRoot(remote, root!)).toBe(first)
    expect(remote.reads).toHaveLength(1)
    // another network source does not see what the first one read
    const other = new RemoteCounting(repo)
    await readRoot(other, root!)
    expect(other.reads).toHaveLength(1)
    const local = new CountingSource(repo)
    await readRoot(local, root!)
    await readRoot(local, root!)
    expect(local.reads).toHaveLength(2)
    // a root removed from the repo is missing for a local reader even after it was read
    await repo.blockstore.delete(root!)
    await expect(readRoot(local, root!)).rejects.toMatchObject({ name: 'MissingBlockError' })
  })
})
