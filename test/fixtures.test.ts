/**
 * The project's own fixtures: the code still makes exactly the committed files and known answers,
 * and the real CLI publishes fixtures/images to the fixed root (as ipfs-car's tests do).
 */
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cli } from './helpers/cli.js'
import { tempDir } from './helpers/tmp.js'

const run = promisify(execFile)
const ROOT = join(import.meta.dirname, '..')
const golden = JSON.parse(readFileSync(join(ROOT, 'fixtures', 'golden.json'), 'utf8'))

let dir: string
let cleanup: () => Promise<void>
beforeAll(async () => { ({ dir, cleanup } = await tempDir('mist-fixtures-')) })
afterAll(async () => { await cleanup?.() })

describe('fixtures/', () => {
  it('is what scripts/make-fixtures.mjs makes from the current code', async () => {
    const { stdout } = await run(process.execPath, [join(ROOT, 'scripts', 'make-fixtures.mjs'), '--check'])
    expect(stdout).toMatch(/fixtures\/ is what the code makes \(4 files\)/)
  })

  it('mist-p2p publish fixtures/images gives the fixed root and entry roots', async () => {
    const res = await cli(['publish', join(ROOT, 'fixtures', 'images'), '--repo', join(dir, 'repo'), '--json'])
    expect(res.code, res.stderr).toBe(0)
    const doc = JSON.parse(res.stdout)
    expect(doc.root).toBe(golden.fixturesDataset.root)
    expect(Object.fromEntries(doc.images.map((i: any) => [i.name, i.root]))).toEqual(golden.fixturesDataset.entries)
    // format version 2: one UnixFS directory per level (the same for every level whose files do not change)
    expect(doc.directories.dirs).toEqual(golden.fixturesDataset.levelDirs)
  })
})
