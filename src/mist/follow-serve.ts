/**
 * The follows a running `serve` resumes from its repo config (`"follow": [{ "name": "site-a/chest",
 * "level": 1, "keep": 1, "intervalSeconds": 300 }]`). Each round goes through the node's own control
 * socket with a fresh client, like any other command: its writes hold a pending lease only while the
 * round runs, so a gc beside it is safe and is not held back between rounds.
 */
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { ControlClient } from '../daemon/control-client.js'
import { UsageError } from '../errors.js'
import type { Holding } from '../gc/index.js'
import { mirrorLevel } from '../level/index.js'
import { parseTargetText, type NameJson } from '../names/index.js'
import { CONTROL_SOCKET, type RepoConfig } from '../repo/index.js'
import { followLoop, followOnce, type FollowDeps, type FollowRound } from './follow.js'

export type FollowEntry = NonNullable<RepoConfig['follow']>[number]

function clientDeps (client: ControlClient, aliases: Record<string, string> | undefined): FollowDeps {
  return {
    resolve: async (text, o) => {
      const t = parseTargetText(text, aliases)
      if (!('peer' in t)) throw new UsageError(`"${text}" is a CID, not a name`)
      return await client.resolve(t.peer, t.name, o) as NameJson
    },
    ls: async o => await client.holdings(o) as Holding[],
    mirror: async (cid: CID, o) => mirrorLevel(client, cid, o),
    unpin: async (cid: CID) => client.unpin(cid)
  }
}

/** Starts one follow loop per entry; they end when `signal` aborts. */
export function startFollowing (repoPath: string, config: RepoConfig, signal: AbortSignal, log: (message: string) => void): Array<Promise<unknown>> {
  return (config.follow ?? []).map(async entry => {
    const round = async (): Promise<FollowRound> => {
      const client = new ControlClient(repoPath, join(repoPath, CONTROL_SOCKET), { command: 'serve (follow)' })
      try {
        const r = await followOnce(clientDeps(client, config.aliases), entry.name, { level: entry.level, size: entry.size, keep: entry.keep, signal })
        if (r.changed) log(`follow ${r.name}: sequence ${r.seq}, mirrored ${r.root} (${r.fetchedBlocks} new leaves)${r.dropped.length > 0 ? `, dropped ${r.dropped.join(', ')}` : ''}`)
        return r
      } finally {
        await client.close()
      }
    }
    return await followLoop(round, { intervalMs: (entry.intervalSeconds ?? 60) * 1000, signal, onError: err => { log(`follow ${entry.name}: ${err.name}: ${err.message}`) } })
  })
}
