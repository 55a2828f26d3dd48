import { execFileSync, spawnSync } from 'node:child_process'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from './helpers/tmp.js'

const SCRIPT = join(import.meta.dirname, '..', 'scripts', 'check-cycles.mjs')

describe('folder structure', () => {
  it('no two folders of src/ import each other, directly or through others', () => {
    const out = execFileSync(process.execPath, [SCRIPT], { encoding: 'utf8' })
    expect(out).toMatch(/no cycle between the folders/)
  })

  it('the check fails on a cycle and names the imports that make it', async () => {
    const { dir, cleanup } = await tempDir()
    for (const [file, text] of Object.entries({
      'a/one.ts': "import { two } from '../b/two.js'\nexport const one = two",
      'b/two.ts': "export const two = 2\nexport type { Three } from '../c/three.js'",
      'c/three.ts': "import type { One } from '../a/types.js'\nexport type Three = One",
      'a/types.ts': 'export type One = 1'
    })) {
      mkdirSync(join(dir, file, '..'), { recursive: true })
      writeFileSync(join(dir, file), text)
    }
    const res = spawnSync(process.execPath, [SCRIPT, dir], { encoding: 'utf8' })
    expect(res.status).toBe(1)
    expect(res.stderr).toContain('cycle between folders: a, b, c')
    expect(res.stderr).toContain('c -> a: c/three.ts -> ../a/types.js')
    await cleanup()
  })
})
