/**
 * A member that accepts the connection and then answers nothing (issue 16): it negotiates every
 * protocol stream (identify, /mist/blocks/1.0.0, bitswap) and stays silent. `get` must still end
 * at its --timeout, and its error must name the connected peer and what it did not answer,
 * instead of only naming the missing block.
 */
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { writeFile } from 'node:fs/promises'
import { cli } from '../helpers/cli.js'
import { EvilProc } from '../helpers/evil-proc.js'
import { initRepo } from '../helpers/repos.js'
import { tempDir } from '../helpers/tmp.js'

let dir: string
let cleanup: () => Promise<void>
let mute: EvilProc | undefined

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-mute-'))
}, 60_000)

afterAll(async () => {
  await mute?.stop().catch(() => {})
  await cleanup?.()
})

describe('a connected peer that answers nothing', () => {
  it('get ends at --timeout with an error naming the peer and what it did not answer', async () => {
    const seeder = await initRepo(dir, 'seeder')
    await writeFile(join(dir, 'a.png'), encodePng(synthesizeImage(128, 128, 8, false, 1, 1)))
    const pub = await cli(['publish', join(dir, 'a.png'), '--repo', seeder.repo, '--json'])
    expect(pub.code, pub.stderr).toBe(0)
    const root = JSON.parse(pub.stdout).root
    const evil = await initRepo(dir, 'mute', seeder.repo)
    mute = new EvilProc(evil.repo, 'mute')
    const { peerId } = await mute.ready
    const getter = await initRepo(dir, 'getter', seeder.repo)
    const t0 = Date.now()
    const res = await cli(['get', root, '-o', join(dir, 'out.png'), '--repo', getter.repo, '--peer', await mute.addr(), '--timeout', '8'])
    const seconds = (Date.now() - t0) / 1000
    expect(res.code).not.toBe(0)
    expect(seconds).toBeLessThan(60)
    expect(res.stderr).toContain(root)
    expect(res.stderr).toContain(`the 1 connected peer(s): ${peerId} (`)
    expect(res.stderr).toMatch(/it never completed identify/)
    expect(res.stderr).toMatch(/\/mist\/blocks\/1\.0\.0: a request failed after 0 of 1 blocks: (it did not accept a request stream|no data) /)
    expect(res.stderr).toMatch(/no block received from it at all/)
  }, 120_000)
})
