import { spawn } from 'node:child_process'
import { UsageError } from '../../errors.js'
import { abortOnSignals, printJson, type CommonOptions } from '../common.js'
import { withMist } from '../store.js'

export interface OpenCommandOptions extends CommonOptions {
  browser?: boolean
}

/** The viewer URL of a root (or one dataset entry) on a gateway. */
export function viewerUrl (gateway: string, root: string, path?: string): string {
  const q = new URLSearchParams({ root })
  if (path != null) q.set('path', path)
  return `${gateway}/?${q.toString()}`
}

/** The platform's "open this URL" command, started detached (its failure only prints a note). */
function openInBrowser (url: string): void {
  const [cmd, args] = process.platform === 'darwin' ? ['open', [url]] : process.platform === 'win32' ? ['cmd', ['/c', 'start', '', url]] : ['xdg-open', [url]]
  const child = spawn(cmd, args as string[], { stdio: 'ignore', detached: true })
  child.on('error', err => process.stderr.write(`could not start ${cmd} (${err.message}): open the URL yourself\n`))
  child.unref()
}

/**
 * `mist-p2p open <root|name>[/<path>]`: the viewer URL of a dataset, image or volume on the HTTP
 * gateway of the `serve --http` running on the repo (a name is resolved among the members, the
 * root is checked through the serve first). The URL names the root, so it keeps showing that version.
 */
export async function openCommand (target: string, options: OpenCommandOptions): Promise<number> {
  const { signal, dispose } = abortOnSignals()
  try {
    const url = await withMist({ repo: options.repo, create: false, network: false }, 'open', async mist => {
      const gateway = await mist.gatewayUrl()
      if (gateway == null) throw new UsageError(`no \`mist-p2p serve --http\` is running on ${mist.store.path}: start one (e.g. \`mist-p2p serve --http 127.0.0.1:8080\`) and run open again`)
      const { cid, path } = await mist.target(target, { signal })
      const found = await mist.info(cid, { signal, path })
      return { url: viewerUrl(gateway, cid.toString(), path), kind: found.kind }
    })
    if (options.json === true) printJson(url)
    else process.stdout.write(`${url.url}\n`)
    if (options.browser === true) openInBrowser(url.url)
    return 0
  } finally {
    dispose()
  }
}
