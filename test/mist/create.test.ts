/**
 * The library entry point as a script uses it: the README's example runs as it stands (its import
 * pointed at this checkout's build) and gives the source's pixels; createMist serves and fetches
 * over the private network like the CLI.
 */
import { execFile } from 'node:child_process'
import { readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { radiographImage } from '../../src/examples/index.js'
import { encodePng } from '../../src/formats/index.js'
import { createMist } from '../../src/index.js'
import { initRepo } from '../helpers/repos.js'
import { tempDir } from '../helpers/tmp.js'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..', '..')

let dir: string
let cleanup: () => Promise<void>
const { image } = radiographImage({ width: 300, height: 200 })

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-library-'))
  await writeFile(join(dir, 'xray.png'), encodePng(image))
})
afterAll(async () => { await cleanup?.() })

describe('createMist', () => {
  it('the README example runs as written and returns the pixels of the published image', async () => {
    const readme = await readFile(join(ROOT, 'README.md'), 'utf8')
    const block = /<!-- library-example:start -->\n```js\n([\s\S]*?)```\n<!-- library-example:end -->/.exec(readme)
    expect(block, 'README has the library example between its markers').not.toBeNull()
    const code = block![1].replace("from 'mist-p2p'", `from '${pathToFileURL(join(ROOT, 'dist/src/index.js')).href}'`)
    expect(code).not.toContain("'mist-p2p'")
    const script = join(dir, 'example.mjs')
    await writeFile(script, code)
    const { stdout } = await run(process.execPath, [script], { env: { ...process.env, REPO: join(dir, 'repo'), INPUT: join(dir, 'xray.png') } })
    const got = JSON.parse(stdout.trim())
    expect(got.full).toEqual([300, 200, 12])
    expect(got.firstPixels).toEqual(Array.from(image.data.slice(0, 4)))
    expect(Math.max(...got.small)).toBeGreaterThanOrEqual(64)
    expect(Math.max(...got.small)).toBeLessThan(300)
    expect(got.levels.at(-1).slice(0, 2)).toEqual([300, 200])
  })

  it('serves a repo from one Mist and fetches a level into another over 127.0.0.1', async () => {
    const a = await initRepo(dir, 'seed')
    const b = await initRepo(dir, 'getter', a.repo)
    const seeder = await createMist({ repo: a.repo })
    try {
      const published = await seeder.publish([join(dir, 'xray.png')])
      const root = published.items[0].root
      const served = await seeder.serve({ listen: ['/ip4/127.0.0.1/tcp/0'] })
      expect(served.peerId).toBe(a.peerId)
      const getter = await createMist({ repo: b.repo, peers: [served.multiaddrs[0]] })
      try {
        expect(getter.store.remote).toBe(true)
        const out = join(dir, 'low.png')
        const events: string[] = []
        const result = await getter.get(root, { size: 64, out, onProgress: e => { if (!events.includes(e.type)) events.push(e.type) } })
        expect(result.fetched?.freshBlocks).toBeGreaterThan(0)
        expect(result.fetched?.peers).toEqual({ [a.peerId]: expect.any(Number) })
        expect(events).toEqual(expect.arrayContaining(['fetch:planned', 'fetch:block', 'retrieve:planned', 'retrieve:written']))
        // the level was prefetched into the getter's repo and is intact
        const low = await getter.verify(root, { size: 64 })
        expect(low.ok).toBe(true)
        const pixels = await getter.getImage(root, { level: 'full' })
        expect(Buffer.compare(Buffer.from(pixels.image.data.buffer, pixels.image.data.byteOffset, pixels.image.data.byteLength),
          Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength))).toBe(0)
      } finally {
        await getter.stop()
      }
      await expect(seeder.serve()).rejects.toMatchObject({ name: 'UsageError' })
    } finally {
      await seeder.stop()
    }
  })
})
