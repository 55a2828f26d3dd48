// Loaded with `node --import` into a child process: logs every outbound network attempt
// (TCP/TLS/HTTP connects, UDP send/bind/multicast, DNS lookups) to stderr as
// "NETHOOK <kind> <detail>" lines, so a test can assert which attempts were made.
import net from 'node:net'
import dgram from 'node:dgram'
import dns from 'node:dns'

const log = (kind, detail) => {
  try { process.stderr.write(`NETHOOK ${kind} ${detail}\n`) } catch {}
}
const describe = (args) => {
  const a = args[0]
  if (Array.isArray(a)) return describe(a) // normalized [options, cb] form used internally by net
  if (a != null && typeof a === 'object') {
    if (a.path != null) return `ipc:${a.path}`
    return `${a.host ?? 'localhost'}:${a.port}`
  }
  if (typeof a === 'string' && typeof args[1] !== 'string' && !/^\d+$/.test(a)) return `ipc:${a}`
  return `${args[1] ?? 'localhost'}:${a}`
}

const connect = net.Socket.prototype.connect
net.Socket.prototype.connect = function (...args) {
  log('tcp-connect', describe(args))
  return connect.apply(this, args)
}

for (const name of ['send', 'bind', 'connect', 'addMembership', 'setBroadcast']) {
  const orig = dgram.Socket.prototype[name]
  if (typeof orig !== 'function') continue
  dgram.Socket.prototype[name] = function (...args) {
    log(`udp-${name}`, args.filter(a => typeof a === 'string' || typeof a === 'number').join(' '))
    return orig.apply(this, args)
  }
}

const dnsNames = ['lookup', 'resolve', 'resolve4', 'resolve6', 'resolveAny', 'resolveTxt', 'resolveSrv', 'resolveCname', 'lookupService']
for (const name of dnsNames) {
  for (const target of [dns, dns.promises]) {
    const orig = target[name]
    if (typeof orig !== 'function') continue
    target[name] = function (...args) {
      // loopback literals resolve locally without any query
      if (!(name === 'lookup' && /^(127\.|::1$|localhost$)/.test(String(args[0])))) log(`dns-${name}`, String(args[0]))
      return orig.apply(this, args)
    }
  }
}
for (const Cls of [dns.Resolver, dns.promises.Resolver]) {
  for (const name of dnsNames) {
    const orig = Cls?.prototype?.[name]
    if (typeof orig !== 'function') continue
    Cls.prototype[name] = function (...args) {
      log(`dns-resolver-${name}`, String(args[0]))
      return orig.apply(this, args)
    }
  }
}
process.stderr.write('NETHOOK installed\n')
