/**
 * Kubo for the interop tests: the driver is bench/kubo-node.ts (shared with the benchmark);
 * `MIST_KUBO` (set by .ci/run) points to the binary and is read when a test runs, not when
 * the file loads.
 */
import { existsSync } from 'node:fs'

export { KuboNode, foreignAddresses, runTool, type IpfsResult } from '../../bench/kubo-node.js'

/** The Kubo binary, or undefined (after a visible message) when MIST_KUBO is unset. */
export function kuboBin (): string | undefined {
  const value = process.env.MIST_KUBO
  if (value == null || value === '') {
    console.warn('[skip] MIST_KUBO is not set: the Kubo interop tests are skipped (.ci/run builds Kubo and sets it)')
    return undefined
  }
  if (!existsSync(value)) throw new Error(`MIST_KUBO=${value} does not exist: the Kubo binary is missing (scripts/build-ipfs-tools.sh builds it)`)
  return value
}
