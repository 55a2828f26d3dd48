import { homedir } from 'node:os'
import { join, resolve } from 'node:path'

/** The repo used when `--repo` is not given: `$MIST_P2P_REPO`, else `~/.mist-p2p`. */
export function defaultRepoPath (): string {
  const fromEnv = process.env.MIST_P2P_REPO
  if (fromEnv != null && fromEnv !== '') return resolve(fromEnv)
  return join(homedir(), '.mist-p2p')
}

/** The control socket of a running `serve`, inside its repo. */
export const CONTROL_SOCKET = 'api.sock'
