/**
 * Plain HTTP file server for the baselines (node:http, keep-alive, Range support).
 *   node http-server.js --dir DIR --host H    prints {"url":"http://H:PORT"}
 */
import { createReadStream } from 'node:fs'
import { stat } from 'node:fs/promises'
import { createServer } from 'node:http'
import { join, normalize } from 'node:path'

const args = process.argv.slice(2)
const opt = (name: string): string | undefined => { const i = args.indexOf(`--${name}`); return i >= 0 ? args[i + 1] : undefined }
const dir = opt('dir') as string
const host = opt('host') ?? '127.0.0.1'

const server = createServer((req, res) => {
  void (async () => {
    const rel = normalize(decodeURIComponent((req.url ?? '/').split('?')[0])).replace(/^\/+/, '')
    if (rel.startsWith('..')) { res.writeHead(403).end(); return }
    const path = join(dir, rel)
    let size: number
    try { size = (await stat(path)).size } catch { res.writeHead(404).end(); return }
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? '')
    if (range != null) {
      const start = Number(range[1])
      const end = Math.min(size - 1, range[2] === '' ? size - 1 : Number(range[2]))
      if (start > end) { res.writeHead(416, { 'content-range': `bytes */${size}` }).end(); return }
      res.writeHead(206, { 'content-length': end - start + 1, 'content-range': `bytes ${start}-${end}/${size}`, 'accept-ranges': 'bytes' })
      createReadStream(path, { start, end }).pipe(res)
    } else {
      res.writeHead(200, { 'content-length': size, 'accept-ranges': 'bytes' })
      createReadStream(path).pipe(res)
    }
  })()
})
server.keepAliveTimeout = 60_000
server.listen(0, host, () => {
  const a = server.address() as { port: number }
  process.stdout.write(JSON.stringify({ url: `http://${host}:${a.port}` }) + '\n')
})
const stop = (): void => { server.closeAllConnections(); server.close(() => process.exit(0)) }
process.once('SIGTERM', stop)
process.once('SIGINT', stop)
