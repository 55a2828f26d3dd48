#!/usr/bin/env node
// Long fuzzing campaigns: `npm run fuzz -- --cases N [--seed S] [--kinds parse,dag] [--seconds T] [--report FILE] [--save DIR]`
// runs test/fuzz/fuzz.test.ts with N cases per input kind (8 kinds) and writes a JSON report of the
// outcomes per kind (default fuzz-report.json). Cases that violate the property are saved under --save.
import { execFileSync, spawnSync } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { resolve } from 'node:path'

const args = process.argv.slice(2)
const opt = { cases: '2000', seed: String(Date.now() % 1e9), seconds: '86400', report: 'fuzz-report.json', save: 'fuzz-failures' }
for (let i = 0; i < args.length; i++) {
  const key = args[i].replace(/^--/, '')
  if (!(key in opt) && key !== 'kinds') { console.error(`fuzz: unknown option ${args[i]}`); process.exit(2) }
  opt[key] = args[++i]
}
const env = {
  ...process.env,
  MIST_FUZZ_CASES: opt.cases,
  MIST_FUZZ_SEED: opt.seed,
  MIST_FUZZ_SECONDS: opt.seconds,
  MIST_FUZZ_REPORT: resolve(opt.report),
  MIST_FUZZ_SAVE: resolve(opt.save),
  ...(opt.kinds != null ? { MIST_FUZZ_KINDS: opt.kinds } : {})
}
console.error(`fuzz: ${opt.cases} cases per kind, seed ${opt.seed}`)
const started = Date.now()
const r = spawnSync('npx', ['vitest', 'run', 'test/fuzz/fuzz.test.ts'], { stdio: 'inherit', env })
try {
  const rep = JSON.parse(readFileSync(env.MIST_FUZZ_REPORT, 'utf8'))
  let total = 0
  let violations = 0
  for (const k of rep.kinds) {
    total += k.cases
    violations += k.violationCount ?? k.violations.length
    console.log(`${k.kind.padEnd(9)} ${String(k.cases).padStart(7)} cases  ok ${String(k.ok).padStart(6)}  errors ${JSON.stringify(k.errors)}  violations ${k.violationCount ?? k.violations.length}  max ${k.maxMs.toFixed(0)} ms`)
  }
  let commit = 'unknown'
  try { commit = execFileSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim() } catch {}
  // what the run was: enough to repeat it and to quote it
  writeFileSync(env.MIST_FUZZ_REPORT, JSON.stringify({ command: `npm run fuzz -- ${args.join(' ')}`, commit, node: process.version, date: new Date(started).toISOString(), wallSeconds: Math.round((Date.now() - started) / 1000), totalCases: total, totalViolations: violations, ...rep }, null, 2) + '\n')
  console.log(`total ${total} cases, ${violations} violations, ${((Date.now() - started) / 1000).toFixed(0)} s; report ${env.MIST_FUZZ_REPORT}`)
} catch (err) {
  console.error(`fuzz: no report (${err.message})`)
}
process.exit(r.status ?? 1)
