/** src/j2k stays a leaf: it imports only its own files and ../errors.js, so every reader can use it without a cycle. */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

describe('src/j2k imports', () => {
  it('nothing but its own files and ../errors.js', () => {
    const dir = fileURLToPath(new URL('../../src/j2k', import.meta.url))
    const found: string[] = []
    for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts'))) {
      const text = readFileSync(join(dir, f), 'utf8')
      for (const m of text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+['"]([^'"]+)['"]/g)) found.push(`${f}: ${m[1]}`)
    }
    expect(found.length).toBeGreaterThan(5)
    expect(found.filter((s) => !/: (\.\/[\w-]+\.js|\.\.\/errors\.js)$/.test(s))).toEqual([])
  })
})
