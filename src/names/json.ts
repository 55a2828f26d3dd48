import type { Resolved } from './resolve.js'
import type { NameRecord } from './record.js'

/** A name record as commands print it and as it crosses the control socket. */
export interface NameJson {
  peer: string
  name: string
  root: string
  seq: string
  validity: string
  description?: string
  from?: string
  refused?: string[]
}

export function nameToJson (r: NameRecord | Resolved): NameJson {
  const out: NameJson = { peer: r.peer, name: r.name, root: r.root.toString(), seq: r.seq.toString(), validity: r.validity }
  if (r.description != null) out.description = r.description
  if ('from' in r) { out.from = r.from; out.refused = r.refused }
  return out
}
