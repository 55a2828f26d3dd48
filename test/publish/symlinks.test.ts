/**
 * `publish DIR` and what is not a plain file (issue 16): a git-annex/DataLad layout (every image a
 * symbolic link into the dataset's own .git/annex) is published; a link to a file elsewhere on the
 * machine or to a directory only with --follow-symlinks; a link into the repo never; dangling
 * links, FIFOs and hidden entries are skipped; every skipped entry is reported with its reason,
 * on stderr and in --json.
 */
import { execFile } from 'node:child_process'
import { mkdir, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { synthesizeImage } from '../../src/codec/index.js'
import { encodePng } from '../../src/formats/index.js'
import { cli } from '../helpers/cli.js'
import { tempDir } from '../helpers/tmp.js'

const run = promisify(execFile)
let dir: string
let cleanup: () => Promise<void>
let ds: string
let repo: string

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir('mist-links-'))
  ds = join(dir, 'ds')
  repo = join(dir, 'repo')
  // git-annex: content under .git/annex/objects/<hash dirs>/<key>/<key>, the tree holds relative links
  const key = 'SHA256E-s1234--0123abcd.png'
  const object = join(ds, '.git', 'annex', 'objects', 'Xk', 'Pq', key)
  await mkdir(object, { recursive: true })
  await writeFile(join(object, key), encodePng(synthesizeImage(64, 64, 8, false, 1, 1)))
  const key2 = 'SHA256E-s1234--4567cdef.png'
  const object2 = join(ds, '.git', 'annex', 'objects', 'Ab', 'Cd', key2)
  await mkdir(object2, { recursive: true })
  await writeFile(join(object2, key2), encodePng(synthesizeImage(64, 64, 8, false, 1, 2)))
  await mkdir(join(ds, 'sub'))
  await symlink(`.git/annex/objects/Xk/Pq/${key}/${key}`, join(ds, 'scan1.png'))
  await symlink(`../.git/annex/objects/Ab/Cd/${key2}/${key2}`, join(ds, 'sub', 'scan2.png'))
  // elsewhere on the machine: a file and a directory
  await mkdir(join(dir, 'elsewhere'))
  await writeFile(join(dir, 'elsewhere', 'secret.png'), encodePng(synthesizeImage(64, 64, 8, false, 1, 3)))
  await symlink(join(dir, 'elsewhere', 'secret.png'), join(ds, 'outside.png'))
  await symlink(join(dir, 'elsewhere'), join(ds, 'linkdir'))
  // a link into the repo, a dangling link, a FIFO
  expect((await cli(['init', '--repo', repo])).code).toBe(0)
  await symlink(join(repo, 'config.json'), join(ds, 'intorepo.png'))
  await symlink(join(dir, 'no-such-file.png'), join(ds, 'dangling.png'))
  await run('mkfifo', [join(ds, 'pipe.png')])
}, 60_000)

afterAll(async () => { await cleanup?.() })

describe('publish DIR with symbolic links and special files', () => {
  it('follows links into the dataset (git-annex), reports every skipped entry with its reason', async () => {
    const res = await cli(['publish', ds, '--repo', repo, '--json'])
    expect(res.code, res.stderr).toBe(0)
    const doc = JSON.parse(res.stdout)
    expect(doc.images.map((i: any) => i.name).sort()).toEqual(['scan1.png', 'sub/scan2.png'])
    const reasons = Object.fromEntries(doc.skipped.map((s: any) => [s.path.slice(ds.length + 1), s.reason]))
    expect(Object.keys(reasons).sort()).toEqual(['.git', 'dangling.png', 'intorepo.png', 'linkdir', 'outside.png', 'pipe.png'])
    expect(reasons['.git']).toMatch(/hidden/)
    expect(reasons['dangling.png']).toMatch(/dangling symbolic link/)
    expect(reasons['intorepo.png']).toMatch(/into the repo/)
    expect(reasons['linkdir']).toMatch(/directory .*--follow-symlinks/)
    expect(reasons['outside.png']).toMatch(/outside the published paths .*--follow-symlinks/)
    expect(reasons['pipe.png']).toMatch(/not a regular file \(a FIFO\)/)
    // the text form says the same on stderr
    const text = await cli(['publish', ds, '--repo', repo])
    expect(text.stderr).toContain(`skipped: ${join(ds, 'pipe.png')}: not a regular file (a FIFO)`)
    expect(text.stdout).toMatch(/published 2 file\(s\) \(2 images\), 0 failed, 6 skipped/)
  }, 60_000)

  it('--follow-symlinks also follows links elsewhere, never into the repo', async () => {
    const res = await cli(['publish', ds, '--repo', repo, '--json', '--follow-symlinks'])
    expect(res.code, res.stderr).toBe(0)
    const doc = JSON.parse(res.stdout)
    expect(doc.images.map((i: any) => i.name).sort()).toEqual(['linkdir/secret.png', 'outside.png', 'scan1.png', 'sub/scan2.png'])
    expect(doc.skipped.map((s: any) => s.path.slice(ds.length + 1)).sort()).toEqual(['.git', 'dangling.png', 'intorepo.png', 'pipe.png'])
  }, 60_000)
})
