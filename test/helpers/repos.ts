import { join } from 'node:path'
import { expect } from 'vitest'
import { cli } from './cli.js'
import { ServeProc } from './serve.js'

/** `mist-p2p init` of `dir/name` (sharing the swarm key of the repo `keyFrom`): its path and peer id. */
export async function initRepo (dir: string, name: string, keyFrom?: string): Promise<{ repo: string, peerId: string }> {
  const repo = join(dir, name)
  const res = await cli(['init', '--repo', repo, '--json', ...(keyFrom != null ? ['--swarm-key', join(keyFrom, 'swarm.key')] : [])])
  expect(res.code, res.stderr).toBe(0)
  return { repo, peerId: JSON.parse(res.stdout).peerId }
}

/** `mist-p2p serve` of a repo on 127.0.0.1, listening; recorded in `serves` so the suite can kill it. */
export async function startServe (serves: ServeProc[], repo: string, options: { extra?: string[], env?: Record<string, string> } = {}): Promise<ServeProc> {
  const s = new ServeProc(['--repo', repo, '--listen', '/ip4/127.0.0.1/tcp/0', ...(options.extra ?? [])], options.env)
  serves.push(s)
  await s.ready
  return s
}
