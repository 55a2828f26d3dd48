import { createMist, type Mist } from '../mist/create.js'
import type { CommonOptions } from './common.js'

export interface StoreOptions extends CommonOptions {
  /** Peers to fetch from (multiaddrs with /p2p/<id>), added to the repo config's peers. */
  peer?: string[]
  /** Seconds one block may take to arrive before it is an error. */
  timeout?: number
  create?: boolean
  /** Start a node for the peers (default true); publish works offline. */
  network?: boolean
}

/** Runs one command on the library entry point, opened from the command's options and stopped after. */
export async function withMist<T> (options: StoreOptions, command: string, fn: (mist: Mist) => Promise<T>): Promise<T> {
  const mist = await createMist({
    repo: options.repo,
    create: options.create,
    peers: options.peer,
    network: options.network,
    blockTimeoutMs: options.timeout != null ? options.timeout * 1000 : undefined,
    command
  })
  try {
    return await fn(mist)
  } finally {
    await mist.stop()
  }
}
