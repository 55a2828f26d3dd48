import { printJson, type CommonOptions } from '../common.js'
import { withMist } from '../store.js'

export interface ServeCommandOptions extends CommonOptions {
  listen?: string[]
  peer?: string[]
  allowPeer?: string[]
  mdns?: boolean
  http?: string
  httpCors?: string[]
  httpTimeout?: number
}

/**
 * `mist-p2p serve`: a long-running node that serves every block of its repo to members of
 * the private network, dials the given and configured peers, and lets the other commands on
 * the same repo work through its control socket. Stops cleanly on SIGINT/SIGTERM.
 */
export async function serveCommand (options: ServeCommandOptions): Promise<number> {
  return await withMist({ repo: options.repo, create: false, network: false }, 'serve', async mist => {
    const served = await mist.serve({
      listen: options.listen,
      peers: options.peer,
      allowPeers: options.allowPeer,
      mdns: options.mdns,
      http: options.http,
      httpCors: options.httpCors,
      httpTimeoutMs: options.httpTimeout != null ? options.httpTimeout * 1000 : undefined,
      log: message => { if (options.json !== true) process.stderr.write(`${message}\n`) }
    })
    const info = { peerId: served.peerId, multiaddrs: served.multiaddrs, repo: mist.store.path, ...(served.http != null ? { http: served.http } : {}) }
    if (options.json === true) printJson(info)
    else process.stdout.write(`serving ${info.repo} as ${served.peerId}\n${info.multiaddrs.map(a => `  ${a}\n`).join('')}${served.http != null ? `HTTP gateway and viewer: ${served.http}/\n` : ''}`)
    // the follows of the repo config resume (each round through this node's control socket)
    const following = new AbortController()
    const { readRepoConfig } = await import('../../repo/index.js')
    const { startFollowing } = await import('../../mist/follow-serve.js')
    const loops = startFollowing(mist.store.path, await readRepoConfig(mist.store.path), following.signal, message => { process.stderr.write(`${message}\n`) })
    await new Promise<void>(resolve => {
      process.once('SIGINT', resolve)
      process.once('SIGTERM', resolve)
    })
    if (options.json !== true) process.stderr.write('stopping\n')
    following.abort()
    await Promise.allSettled(loops)
    return 0
  })
}
