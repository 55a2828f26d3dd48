// Loaded with `node --import` into a `mist-p2p serve` child: the moment a Unix socket is bound
// (inside net.Server.listen, before any later chmod), records its mode and its directory's mode
// to $MIST_LISTEN_PROBE, so a test sees what another local user could have reached at creation.
import net from 'node:net'
import { appendFileSync, lstatSync } from 'node:fs'
import { dirname } from 'node:path'

const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (...args) {
  const result = listen.apply(this, args)
  const path = typeof args[0] === 'string' ? args[0] : args[0]?.path
  if (typeof path === 'string' && process.env.MIST_LISTEN_PROBE != null) {
    let socketMode = null
    try { socketMode = lstatSync(path).mode & 0o777 } catch {}
    appendFileSync(process.env.MIST_LISTEN_PROBE, JSON.stringify({ path, socketMode, dirMode: lstatSync(dirname(path)).mode & 0o777 }) + '\n')
  }
  return result
}
