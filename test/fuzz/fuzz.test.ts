/**
 * Hostile inputs, property-based (fast-check): every generated case must end in a MistError
 * subclass or a correct result, within its time limit and with bounded memory (see
 * test/helpers/fuzz-harness.ts). `npm test` runs a small budget per kind (MIST_FUZZ_CASES,
 * default 120; MIST_FUZZ_SECONDS bounds each kind's time, default 25); `npm run fuzz -- --cases N`
 * runs long campaigns and writes a report.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { REAL_FIXTURES } from '../helpers/env.js'
import { bytesCaseArb, dagCaseArb, FuzzRunner, KINDS, leavesCaseArb, namesCaseArb, shardsCaseArb, makeBaseDag, makeBases, runKind, type Bases, type BaseDag, type Kind, type KindStats } from '../helpers/fuzz-harness.js'

const CASES = Number(process.env.MIST_FUZZ_CASES ?? 120)
const SECONDS = Number(process.env.MIST_FUZZ_SECONDS ?? 25)
const SEED = Number(process.env.MIST_FUZZ_SEED ?? 20240601)
const ONLY = process.env.MIST_FUZZ_KINDS?.split(',') as Kind[] | undefined
const REPORT = process.env.MIST_FUZZ_REPORT

let bases: Bases
let dag: BaseDag
let runner: FuzzRunner
let tmp: string
const report: KindStats[] = []

beforeAll(async () => {
  tmp = mkdtempSync(join(tmpdir(), 'mist-fuzz-'))
  bases = await makeBases(REAL_FIXTURES)
  dag = await makeBaseDag()
  runner = new FuzzRunner(dag.blocks, tmp)
})

afterAll(async () => {
  await runner?.close()
  if (REPORT != null) writeFileSync(REPORT, JSON.stringify({ seed: SEED, casesPerKind: CASES, kinds: report }, null, 2) + '\n')
  rmSync(tmp, { recursive: true, force: true })
})

function arbFor (kind: Kind): any {
  switch (kind) {
    case 'parse': case 'decode': case 'retrieve': return bytesCaseArb(kind, bases.codestreams)
    case 'png': return bytesCaseArb(kind, bases.png)
    case 'dicom': return bytesCaseArb(kind, bases.dicom)
    case 'nifti': return bytesCaseArb(kind, bases.nifti)
    case 'nifti-gz': return bytesCaseArb(kind, bases.niftiGz)
    case 'dag': return dagCaseArb(dag)
    case 'leaves': return leavesCaseArb(dag)
    case 'shards': return shardsCaseArb(dag)
    case 'names': return namesCaseArb(dag)
  }
}

describe('fuzz: hostile inputs end in a MistError or a correct result, bounded in time and memory', () => {
  for (const kind of KINDS) {
    if (ONLY != null && !ONLY.includes(kind)) continue
    it(kind, async () => {
      const stats = await runKind(kind, arbFor(kind), runner, { cases: CASES, seed: SEED, saveDir: process.env.MIST_FUZZ_SAVE, deadlineMs: SECONDS * 1000 })
      report.push(stats)
      console.log(`[fuzz] ${kind}: ${stats.cases} cases, ${stats.ok} ok, errors ${JSON.stringify(stats.errors)}, ${stats.violations.length} violations, max ${stats.maxMs.toFixed(0)} ms`)
      expect(stats.cases).toBeGreaterThan(0)
      // mutations must really be exercised: both outcomes occur for the byte kinds
      expect(Object.keys(stats.errors).length, `${kind}: no case was refused`).toBeGreaterThan(0)
      expect(stats.violations, JSON.stringify(stats.violations, null, 2)).toEqual([])
    }, (SECONDS + 60) * 1000)
  }
})
