import { isIP } from 'node:net'
import { UsageError } from '../errors.js'

export interface HttpAddress { host: string, port: number }

/**
 * `--http ADDR`: `PORT`, `HOST:PORT` or `[IPv6]:PORT`. A bare port binds 127.0.0.1: the
 * gateway serves medical data, so it is reachable from elsewhere only when the user names
 * another address.
 */
export function parseHttpAddress (value: string): HttpAddress {
  const m = /^(?:(\[[0-9a-fA-F:.]+\]|[^:[\]]+):)?(\d{1,5})$/.exec(value.trim())
  if (m == null) throw new UsageError(`--http ${value}: expected PORT, HOST:PORT or [IPv6]:PORT (e.g. 127.0.0.1:8080)`)
  const port = Number(m[2])
  if (port > 65535) throw new UsageError(`--http ${value}: port ${port} is above 65535`)
  let host = m[1] ?? '127.0.0.1'
  if (host.startsWith('[')) host = host.slice(1, -1)
  if (host !== 'localhost' && isIP(host) === 0) throw new UsageError(`--http ${value}: "${host}" is not an IP address (give the address of the interface to bind, e.g. 127.0.0.1)`)
  return { host, port }
}

/** Whether only this machine can reach the address. */
export function isLoopback (host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d+\.\d+\.\d+$/.test(host)
}

/** `http://host:port` for printing (IPv6 in brackets). */
export function httpUrl (host: string, port: number): string {
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`
}
