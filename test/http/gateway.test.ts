import { createHash, randomBytes } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { CarBufferReader } from '@ipld/car'
import { CID } from 'multiformats/cid'
import * as raw from 'multiformats/codecs/raw'
import { sha256 } from 'multiformats/hashes/sha2'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startHttpGateway } from '../../src/http/index.js'
import { Repo } from '../../src/repo/index.js'
import { cli } from '../helpers/cli.js'
import { publishAndServe, type GatewayServe } from '../helpers/gateway.js'
import type { ServeProc } from '../helpers/serve.js'
import { tempDir } from '../helpers/tmp.js'

const CAR_TYPE = 'application/vnd.ipld.car; version=1; order=dfs; dups=n'

/** Every block of a CAR, each checked against its CID's sha2-256 digest. */
function verifiedCarBlocks (bytes: Uint8Array): { roots: string[], cids: string[] } {
  const car = CarBufferReader.fromBytes(bytes)
  const cids: string[] = []
  for (const block of car.blocks()) {
    expect(block.cid.multihash.code).toBe(sha256.code)
    expect(Buffer.from(createHash('sha256').update(block.bytes).digest()).equals(Buffer.from(block.cid.multihash.digest)), `block ${block.cid} matches its CID`).toBe(true)
    cids.push(block.cid.toString())
  }
  return { roots: car.getRoots().map(r => r.toString()), cids }
}

describe('serve --http: trustless gateway and /mist endpoints', () => {
  const serves: ServeProc[] = []
  let env: GatewayServe
  let cleanup: () => Promise<void>
  let dir: string
  let photo: any
  let ct: any

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir())
    env = await publishAndServe(dir, serves, ['--http-timeout', '1'])
    photo = await (await fetch(`${env.http}/mist/${env.root}/photo.png`)).json()
    ct = await (await fetch(`${env.http}/mist/${env.root}/ct/phantom.nii.gz`)).json()
  }, 60_000)

  afterAll(async () => {
    await Promise.all(serves.map(async s => s.stop()))
    await cleanup?.()
  })

  it('serves one raw block by ?format=raw or Accept, verifiable, with the spec\'s headers; HEAD has no body', async () => {
    const leaf = photo.leaves[0]
    const byFormat = await fetch(`${env.http}/ipfs/${leaf.cid}?format=raw`)
    expect(byFormat.status).toBe(200)
    expect(byFormat.headers.get('content-type')).toBe('application/vnd.ipld.raw')
    expect(byFormat.headers.get('content-disposition')).toBe(`attachment; filename="${leaf.cid}.bin"`)
    expect(byFormat.headers.get('cache-control')).toContain('immutable')
    expect(byFormat.headers.get('etag')).toBe(`"${leaf.cid}.raw"`)
    expect(byFormat.headers.get('x-content-type-options')).toBe('nosniff')
    const body = new Uint8Array(await byFormat.arrayBuffer())
    expect(body.byteLength).toBe(leaf.size)
    expect(CID.parse(leaf.cid).multihash.bytes).toEqual((await sha256.digest(body)).bytes)
    const byAccept = await fetch(`${env.http}/ipfs/${leaf.cid}`, { headers: { accept: 'text/html;q=0.9, application/vnd.ipld.raw' } })
    expect(byAccept.status).toBe(200)
    expect(byAccept.headers.get('content-location')).toBe(`/ipfs/${leaf.cid}?format=raw`)
    expect(new Uint8Array(await byAccept.arrayBuffer())).toEqual(body)
    const head = await fetch(`${env.http}/ipfs/${leaf.cid}?format=raw`, { method: 'HEAD' })
    expect(head.status).toBe(200)
    expect(head.headers.get('content-length')).toBe(String(leaf.size))
    expect((await head.arrayBuffer()).byteLength).toBe(0)
    // the trustless gateway probe: the empty identity CID
    const probe = await fetch(`${env.http}/ipfs/bafkqaaa?format=raw`)
    expect(probe.status).toBe(200)
    expect((await probe.arrayBuffer()).byteLength).toBe(0)
  })

  it('serves a level file as a CAR (dag-scope entity/block/all, entity-bytes), every block verified, exactly the level\'s blocks', async () => {
    const level = photo.levels[1]
    const res = await fetch(`${env.http}/ipfs/${level.file}?format=car&dag-scope=entity`)
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe(CAR_TYPE)
    expect(res.headers.get('content-disposition')).toBe(`attachment; filename="${level.file}.car"`)
    const car = verifiedCarBlocks(new Uint8Array(await res.arrayBuffer()))
    expect(car.roots).toEqual([level.file])
    // the file node, then its leaves in order, then the shared EOC leaf
    expect(car.cids).toEqual([level.file, ...photo.leaves.slice(0, level.leaves).map((l: any) => l.cid), photo.eoc])

    const block = verifiedCarBlocks(new Uint8Array(await (await fetch(`${env.http}/ipfs/${level.file}`, { headers: { accept: 'application/vnd.ipld.car; version=1; order=dfs; dups=n' }, ...{} }).then(async r => r)).arrayBuffer()))
    expect(block.cids.length).toBe(level.leaves + 2)
    const onlyRoot = verifiedCarBlocks(new Uint8Array(await (await fetch(`${env.http}/ipfs/${level.file}?format=car&dag-scope=block`)).arrayBuffer()))
    expect(onlyRoot.cids).toEqual([level.file])
    // the first 10 bytes of the level file: the file node and the first leaf only
    const range = verifiedCarBlocks(new Uint8Array(await (await fetch(`${env.http}/ipfs/${level.file}?format=car&entity-bytes=0:9`)).arrayBuffer()))
    expect(range.cids).toEqual([level.file, photo.leaves[0].cid])
    // the whole image DAG: root, every leaf once, every level file
    const all = verifiedCarBlocks(new Uint8Array(await (await fetch(`${env.http}/ipfs/${photo.root}?format=car`)).arrayBuffer()))
    expect(all.cids[0]).toBe(photo.root)
    expect(new Set(all.cids).size).toBe(all.cids.length)
    for (const c of [...photo.leaves.map((l: any) => l.cid), ...photo.levels.map((l: any) => l.file), photo.eoc]) expect(all.cids).toContain(c)
    const probe = await fetch(`${env.http}/ipfs/bafkqaaa?format=car`)
    expect(verifiedCarBlocks(new Uint8Array(await probe.arrayBuffer()))).toEqual({ roots: ['bafkqaaa'], cids: [] })
  })

  it('@helia/verified-fetch, pointed only at this gateway, retrieves a level file and verifies it', async () => {
    const { createHeliaLight } = await import('helia')
    const { trustlessGatewayBlockBroker } = await import('@helia/trustless-gateway-client')
    const { fallbackRouter } = await import('@helia/fallback-router')
    const { createVerifiedFetchWithHelia } = await import('@helia/verified-fetch')
    // every request the client makes goes through this process's fetch: record them all
    const seen: string[] = []
    const realFetch = globalThis.fetch
    globalThis.fetch = async (input: any, init?: any) => { seen.push(String(input instanceof Request ? input.url : input)); return realFetch(input, init) }
    // no libp2p, no delegated routing: one block broker (trustless gateways) whose only provider is our server.
    // The router is the fallback router's provider list without its 'fallback' capability: helia 7 never
    // finishes a provider search whose only routers are fallbacks (it waits on an empty set of default routers)
    const ours = fallbackRouter({ gateways: [env.http] })
    const helia = await createHeliaLight({
      blockBrokers: [trustlessGatewayBlockBroker({ allowLocal: true, allowInsecure: true })],
      routers: [{ name: 'mist-gateway', findProviders: (c: any, o: any) => ours.findProviders(c, o) }]
    } as any)
    await helia.start()
    const vf = await createVerifiedFetchWithHelia(helia)
    try {
      for (const level of [photo.levels[0], photo.levels[photo.levels.length - 1]]) {
        const res = await vf(`ipfs://${level.file}`)
        expect(res.status).toBe(200)
        const bytes = new Uint8Array(await res.arrayBuffer())
        expect(bytes.byteLength).toBe(level.bytes)
        // the level file is the codestream prefix: the leaves in order and the EOC
        expect(Buffer.from(bytes.subarray(-2)).toString('hex')).toBe('ffd9')
        const first = new Uint8Array(await (await realFetch(`${env.http}/ipfs/${photo.leaves[0].cid}?format=raw`)).arrayBuffer())
        expect(bytes.subarray(0, first.byteLength)).toEqual(first)
      }
      // the full level file is the published codestream: the same bytes `get --format j2c` writes at full
      const full = photo.levels[photo.levels.length - 1]
      const j2c = new Uint8Array(await (await realFetch(`${env.http}/mist/${env.root}/photo.png?format=j2c`)).arrayBuffer())
      expect(new Uint8Array(await (await vf(`ipfs://${full.file}`)).arrayBuffer())).toEqual(j2c)
    } finally {
      globalThis.fetch = realFetch
      await vf.stop()
      await helia.stop()
    }
    expect(seen.length).toBeGreaterThan(0)
    for (const u of seen) expect(u.startsWith(`${env.http}/`), u).toBe(true)
    expect(seen.some(u => /format=raw/.test(u) || /\/ipfs\//.test(u))).toBe(true)
  })

  it('a node that does not hold a dataset serves it from its peer: CAR and render equal the seeder\'s', async () => {
    const { initRepo, startServe } = await import('../helpers/repos.js')
    const { repo } = await initRepo(dir, 'getter', env.repo)
    const getter = await startServe(serves, repo, { extra: ['--peer', await env.serve.addr(), '--http', '127.0.0.1:0'] })
    const http = (await getter.ready as { http?: string }).http!
    const level = photo.levels[2]
    const res = await fetch(`${http}/ipfs/${level.file}?format=car&dag-scope=entity`)
    expect(res.status).toBe(200)
    const car = verifiedCarBlocks(new Uint8Array(await res.arrayBuffer()))
    expect(car.cids).toEqual([level.file, ...photo.leaves.slice(0, level.leaves).map((l: any) => l.cid), photo.eoc])
    const url = `/mist/${env.root}/photo.png?level=2&format=png`
    const [mine, theirs] = await Promise.all([fetch(`${http}${url}`), fetch(`${env.http}${url}`)])
    expect(mine.status).toBe(200)
    expect(Buffer.from(await mine.arrayBuffer()).equals(Buffer.from(await theirs.arrayBuffer()))).toBe(true)
  })

  it('refuses what it does not serve: 406 for other types, 400 for a path under a CID or unknown CAR variants', async () => {
    const leaf = photo.leaves[0].cid
    // a browser's or fetch's default Accept (*/*) names no verifiable type
    expect((await fetch(`${env.http}/ipfs/${leaf}`)).status).toBe(406)
    expect((await fetch(`${env.http}/ipfs/${leaf}`, { headers: { accept: 'text/html' } })).status).toBe(406)
    expect((await fetch(`${env.http}/ipfs/${leaf}`, { headers: { accept: 'application/vnd.ipld.car; dups=y' } })).status).toBe(406)
    expect((await fetch(`${env.http}/ipfs/${leaf}/x?format=car`)).status).toBe(400)
    expect((await fetch(`${env.http}/ipfs/${leaf}?format=dag-json`)).status).toBe(400)
    expect((await fetch(`${env.http}/ipfs/not-a-cid?format=raw`)).status).toBe(400)
    expect((await fetch(`${env.http}/ipfs/${leaf}?format=raw`, { method: 'POST' })).status).toBe(405)
    // no CORS for other origins unless configured
    const cross = await fetch(`${env.http}/ipfs/${leaf}?format=raw`, { headers: { origin: 'http://elsewhere.invalid' } })
    expect(cross.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('a CID the node cannot get: 504 within the timeout (peers asked, --http-timeout 1), 412 with only-if-cached at once', async () => {
    const missing = CID.createV1(raw.code, await sha256.digest(randomBytes(32)))
    const t0 = Date.now()
    const res = await fetch(`${env.http}/ipfs/${missing}?format=raw`)
    const elapsed = Date.now() - t0
    expect(res.status).toBe(504)
    expect(await res.text()).toMatch(/did not arrive within 1\.0 s/)
    expect(elapsed).toBeGreaterThanOrEqual(900)
    expect(elapsed).toBeLessThan(10_000)
    const car = await fetch(`${env.http}/ipfs/${missing}?format=car`)
    expect(car.status).toBe(504)
    const cached = await fetch(`${env.http}/ipfs/${missing}?format=raw`, { headers: { 'cache-control': 'only-if-cached' } })
    expect(cached.status).toBe(412)
    expect((await fetch(`${env.http}/mist/${env.root}/no/such.png`)).status).toBe(404)
  })

  it('a gateway over the repo alone (no peers) answers 404 at once for a block it lacks', async () => {
    const repo = await Repo.open({ path: join(dir, 'empty-repo'), create: true, command: 'test' })
    const gw = await startHttpGateway(repo, { listen: '127.0.0.1:0' })
    try {
      const missing = CID.createV1(raw.code, await sha256.digest(randomBytes(32)))
      const t0 = Date.now()
      const res = await fetch(`${gw.url}/ipfs/${missing}?format=raw`)
      expect(res.status).toBe(404)
      expect(Date.now() - t0).toBeLessThan(2000)
    } finally {
      await gw.close()
      await repo.close()
    }
  })

  it('`open` prints the viewer URL of a root or entry on the running serve\'s gateway, and refuses without one', async () => {
    const res = await cli(['open', `${env.root}/xray/chest.png`, '--repo', env.repo])
    expect(res.code, res.stderr).toBe(0)
    expect(res.stdout.trim()).toBe(`${env.http}/?root=${env.root}&path=xray%2Fchest.png`)
    const json = await cli(['open', env.root, '--repo', env.repo, '--json'])
    expect(JSON.parse(json.stdout)).toEqual({ url: `${env.http}/?root=${env.root}`, kind: 'dataset' })
    // the URL serves the viewer page
    expect((await fetch(JSON.parse(json.stdout).url)).headers.get('content-type')).toBe('text/html; charset=utf-8')
    const missing = await cli(['open', `${env.root}/no/such.png`, '--repo', env.repo])
    expect(missing.code).not.toBe(0)
    const idle = join(dir, 'idle')
    await (await Repo.open({ path: idle, create: true, command: 'test' })).close()
    const none = await cli(['open', env.root, '--repo', idle])
    expect(none.code).toBe(2)
    expect(none.stderr).toMatch(/no `mist-p2p serve --http` is running on .*idle/)
  })

  it('warns when it binds an address other machines can reach', async () => {
    const repo = await Repo.open({ path: join(dir, 'warn-repo'), create: true, command: 'test' })
    const messages: string[] = []
    const gw = await startHttpGateway(repo, { listen: '0.0.0.0:0', log: m => messages.push(m) })
    await gw.close()
    await repo.close()
    expect(messages.join('\n')).toMatch(/warning: the HTTP gateway listens on 0\.0\.0\.0: the medical data/)
  })

  it('/mist/<root> lists the dataset a page at a time, with each entry\'s levels and bytes', async () => {
    const names: string[] = []
    let after: string | null = null
    let pages = 0
    do {
      const res = await fetch(`${env.http}/mist/${env.root}?limit=1${after != null ? `&after=${encodeURIComponent(after)}` : ''}`)
      expect(res.headers.get('content-type')).toBe('application/json; charset=utf-8')
      const page: any = await res.json()
      expect(page.kind).toBe('dataset')
      expect(page.count).toBe(3)
      expect(page.entries.length).toBe(1)
      const e = page.entries[0]
      expect(e.levels.length).toBeGreaterThan(1)
      for (const l of e.levels) expect(l.bytes).toBeGreaterThan(0)
      names.push(e.name)
      after = page.next
      pages++
    } while (after != null && pages < 10)
    expect(names).toEqual(['ct/phantom.nii.gz', 'photo.png', 'xray/chest.png'])
    const all: any = await (await fetch(`${env.http}/mist/${env.root}`)).json()
    expect(all.entries.map((e: any) => [e.name, e.kind])).toEqual([['ct/phantom.nii.gz', 'volume'], ['photo.png', 'image'], ['xray/chest.png', 'image']])
    expect(all.entries[0].slices).toBe(12)
    expect(all.next).toBeNull()
    expect(ct.kind).toBe('volume')
    const slice: any = await (await fetch(`${env.http}/mist/${env.root}/ct/phantom.nii.gz?slice=5`)).json()
    expect(slice.kind).toBe('image')
    expect(slice.slice).toBe(5)
    expect(slice.width).toBe(128)
    expect((await fetch(`${env.http}/mist/${env.root}/ct/phantom.nii.gz?slice=12`)).status).toBe(404)
    expect((await fetch(`${env.http}/mist/${env.root}?limit=0`)).status).toBe(400)
  })

  it('renders an output equal to `get`\'s, streamed with Content-Length and immutable caching', async () => {
    const cases: Array<{ url: string, get: string[], type: string }> = [
      { url: `/mist/${env.root}/photo.png?level=1&format=png`, get: [`${env.root}/photo.png`, '--level', '1', '--format', 'png'], type: 'image/png' },
      { url: `/mist/${env.root}/xray/chest.png?format=png`, get: [`${env.root}/xray/chest.png`, '--format', 'png'], type: 'image/png' },
      { url: `/mist/${env.root}/ct/phantom.nii.gz?level=0&format=nii`, get: [`${env.root}/ct/phantom.nii.gz`, '--level', '0', '--format', 'nii'], type: 'application/octet-stream' }
    ]
    for (const [i, c] of cases.entries()) {
      const res = await fetch(`${env.http}${c.url}`)
      expect(res.status, c.url).toBe(200)
      expect(res.headers.get('content-type')).toBe(c.type)
      expect(res.headers.get('cache-control')).toBe('public, max-age=29030400, immutable')
      const body = Buffer.from(await res.arrayBuffer())
      expect(res.headers.get('content-length')).toBe(String(body.byteLength))
      const out = join(dir, `get-${i}`)
      const got = await cli(['get', ...c.get, '-o', out, '--repo', env.repo, '--json'])
      expect(got.code, got.stderr).toBe(0)
      const path = JSON.parse(got.stdout).outputs[0].paths[0]
      expect(body.equals(await readFile(path)), `${c.url} equals get's output`).toBe(true)
    }
    const slice = await fetch(`${env.http}/mist/${env.root}/ct/phantom.nii.gz?slice=3&level=1&format=npy`)
    expect(slice.status, await slice.clone().text()).toBe(200)
    expect((await fetch(`${env.http}/mist/${env.root}/ct/phantom.nii.gz?format=png`)).status).toBe(400)
  })
})
