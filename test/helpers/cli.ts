import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

export const BIN = fileURLToPath(new URL('../../bin/mist-p2p.js', import.meta.url))
const MAIN = fileURLToPath(new URL('../../dist/src/cli/main.js', import.meta.url))

/** Runs the real CLI (compiled JS, as users run it) and returns its exit code and output. */
export async function cli (args: string[], options: { env?: Record<string, string>, cwd?: string, timeoutMs?: number } = {}): Promise<{ code: number, stdout: string, stderr: string }> {
  if (!existsSync(MAIN)) throw new Error(`${MAIN} is missing: run \`npm run build\` (npm test does it first)`)
  return new Promise(resolve => {
    execFile(process.execPath, [BIN, ...args], { env: { ...process.env, ...options.env }, cwd: options.cwd, timeout: options.timeoutMs ?? 120_000, maxBuffer: 64 * 1024 * 1024 }, (err: any, stdout, stderr) => {
      resolve({ code: err == null ? 0 : (typeof err.code === 'number' ? err.code : 1), stdout: String(stdout), stderr: String(stderr) })
    })
  })
}
