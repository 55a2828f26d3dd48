/**
 * The viewer's files: the page at `/` (and `/view/<root>`), its script and style from
 * `viewer/` in the package, and the OpenJPH WebAssembly build it decodes HTJ2K with. A strict
 * Content-Security-Policy keeps the page to this server: it can load and fetch nothing else.
 */
import { readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { IncomingMessage, ServerResponse } from 'node:http'

/** The package's viewer/ folder, from the sources (src/http) or the build (dist/src/http). */
function viewerDir (): string {
  const here = dirname(fileURLToPath(import.meta.url))
  for (const up of ['../..', '../../..']) {
    const dir = join(here, up, 'viewer')
    if (existsSync(join(dir, 'index.html'))) return dir
  }
  return join(here, '../..', 'viewer')
}

const require = createRequire(import.meta.url)

const FILES: Record<string, { path: () => string, type: string }> = {
  '/': { path: () => join(viewerDir(), 'index.html'), type: 'text/html; charset=utf-8' },
  '/viewer/viewer.js': { path: () => join(viewerDir(), 'viewer.js'), type: 'text/javascript; charset=utf-8' },
  '/viewer/viewer.css': { path: () => join(viewerDir(), 'viewer.css'), type: 'text/css; charset=utf-8' },
  '/viewer/openjphjs.js': { path: () => require.resolve('@cornerstonejs/codec-openjph'), type: 'text/javascript; charset=utf-8' },
  '/viewer/openjphjs.wasm': { path: () => require.resolve('@cornerstonejs/codec-openjph/wasm'), type: 'application/wasm' }
}

/** Only this server, nothing inline; WebAssembly compilation allowed for the decoder. */
const CSP = "default-src 'none'; script-src 'self' 'wasm-unsafe-eval'; connect-src 'self'; img-src 'self' blob: data:; style-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

/** Serves a viewer file; false when the path is not one. */
export async function serveViewer (req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
  const file = FILES[url.pathname]
  if (file == null) return false
  const body = await readFile(file.path())
  res.statusCode = 200
  res.setHeader('Content-Type', file.type)
  res.setHeader('Content-Length', body.byteLength)
  res.setHeader('Content-Security-Policy', CSP)
  // the page changes with mist-p2p releases: revalidate, unlike the content-addressed responses
  res.setHeader('Cache-Control', 'no-cache')
  res.end(req.method === 'HEAD' ? undefined : body)
  return true
}
