import type { NameJson } from '../../names/index.js'
import { UsageError } from '../../errors.js'
import { abortOnSignals, parseCid, printJson } from '../common.js'
import { withMist, type StoreOptions } from '../store.js'

/** `30s`, `15m`, `24h`, `7d` → milliseconds. */
export function parseLifetime (text: string): number {
  const m = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim())
  if (m == null) throw new UsageError(`"${text}" is not a lifetime: give a number and a unit, e.g. 30s, 15m, 24h, 7d`)
  return Number(m[1]) * { s: 1e3, m: 60e3, h: 3600e3, d: 86400e3 }[m[2] as 's' | 'm' | 'h' | 'd']
}

function describe (r: NameJson): string {
  return `${r.peer}/${r.name} -> ${r.root}  (sequence ${r.seq}, valid until ${r.validity}${r.from != null ? `, from ${r.from}` : ''})${r.description != null ? `\n  ${r.description}` : ''}`
}

/** `mist-p2p name publish <cid> <name>`: a signed record `<this peer>/<name>` → root; `serve` hands it to members. */
export async function namePublishCommand (cidText: string, name: string, options: StoreOptions & { lifetime?: string, description?: string }): Promise<number> {
  const cid = parseCid(cidText)
  const lifetimeMs = options.lifetime != null ? parseLifetime(options.lifetime) : undefined
  const { dispose } = abortOnSignals()
  try {
    const r = await withMist({ ...options, network: false }, 'name publish', async mist => mist.namePublish(cid, name, { lifetimeMs, description: options.description }))
    if (options.json === true) printJson(r)
    else process.stdout.write(`published ${describe(r)}\n`)
    return 0
  } finally {
    dispose()
  }
}

/** `mist-p2p name resolve <peer-id|alias>/<name>`: the newest valid record from this repo and the connected members. */
export async function nameResolveCommand (text: string, options: StoreOptions): Promise<number> {
  const { signal, dispose } = abortOnSignals()
  try {
    const r = await withMist(options, 'name resolve', async mist => mist.resolve(text, { signal }))
    for (const why of r.refused ?? []) process.stderr.write(`warning: ${why}\n`)
    if (options.json === true) printJson(r)
    else process.stdout.write(`${describe(r)}\n`)
    return 0
  } finally {
    dispose()
  }
}
