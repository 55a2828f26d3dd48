/**
 * The viewer page in a real headless Chromium (Debian's chromium, MIST_CHROMIUM), driven by
 * playwright-core, against `serve --http 127.0.0.1:0` over a dataset with a CT-like volume, a
 * 12-bit radiograph and an 8-bit photo. One browser for the whole file.
 */
import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { publishAndServe, type GatewayServe } from '../helpers/gateway.js'
import type { ServeProc } from '../helpers/serve.js'
import { tempDir } from '../helpers/tmp.js'

const DOCS = join(import.meta.dirname, '..', '..', 'docs', 'viewer')
const FLAGS = ['--no-sandbox', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-default-apps', '--disable-extensions']

/** The samples of a little-endian .npy (uint8, uint16, int16). */
function readNpy (buf: Buffer): { shape: number[], data: ArrayLike<number> } {
  expect(buf.subarray(0, 6).toString('latin1')).toBe('\x93NUMPY')
  const headerLen = buf[6] === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8)
  const start = buf[6] === 1 ? 10 : 12
  const header = buf.subarray(start, start + headerLen).toString('latin1')
  const descr = /'descr':\s*'([^']+)'/.exec(header)![1]
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header)![1].split(',').filter(s => s.trim() !== '').map(Number)
  expect(header).toMatch(/'fortran_order':\s*False/)
  const body = buf.subarray(start + headerLen)
  const copy = new Uint8Array(body).buffer
  const data = descr === '|u1' ? new Uint8Array(copy) : descr === '<u2' ? new Uint16Array(copy) : descr === '<i2' ? new Int16Array(copy) : undefined
  if (data == null) throw new Error(`npy dtype ${descr} not handled`)
  return { shape, data }
}

/** The viewer's stated mapping of a sample wider than 8 bits onto grey, on real-world values. */
function grey (sample: number, win: { center: number, width: number }, rescale = { slope: 1, intercept: 0 }): number {
  const v = rescale.slope * sample + rescale.intercept
  const lo = win.center - win.width / 2
  return v <= lo ? 0 : v >= lo + win.width ? 255 : Math.round((v - lo) * 255 / win.width)
}

describe('viewer page in headless Chromium', () => {
  const serves: ServeProc[] = []
  let skip: string | undefined
  let env: GatewayServe
  let cleanup: (() => Promise<void>) | undefined
  let browser: any
  let context: any
  const requests: Array<{ url: string, t: number }> = []
  const blocked: string[] = []

  beforeAll(async () => {
    const exe = process.env.MIST_CHROMIUM
    if (exe == null || exe === '') {
      skip = 'MIST_CHROMIUM is not set'
      console.warn(`[skip] ${skip}: the viewer tests in headless Chromium are skipped (.ci/run sets it)`)
      return
    }
    const { dir, cleanup: c } = await tempDir()
    cleanup = c
    env = await publishAndServe(dir, serves)
    const { chromium } = await import('playwright-core')
    browser = await chromium.launch({ executablePath: exe, headless: true, args: FLAGS })
    context = await browser.newContext({ viewport: { width: 1100, height: 760 } })
    const origin = new URL(env.http).origin
    // anything not for our server is recorded and refused
    await context.route('**/*', async (route: any) => {
      const url = route.request().url()
      if (new URL(url).origin !== origin) { blocked.push(url); await route.abort(); return }
      await route.continue()
    })
    context.on('request', (r: any) => requests.push({ url: r.url(), t: Date.now() }))
    await mkdir(DOCS, { recursive: true })
  }, 90_000)

  afterAll(async () => {
    await browser?.close()
    await Promise.all(serves.map(async s => s.stop()))
    await cleanup?.()
  })

  const npy = async (path: string): Promise<{ shape: number[], data: ArrayLike<number> }> => {
    const res = await fetch(`${env.http}${path}`)
    expect(res.status, path).toBe(200)
    return readNpy(Buffer.from(await res.arrayBuffer()))
  }
  const canvasGrey = async (page: any): Promise<{ width: number, height: number, grey: number[] }> => page.evaluate(() => {
    const c = document.getElementById('canvas') as HTMLCanvasElement
    const d = c.getContext('2d')!.getImageData(0, 0, c.width, c.height).data
    const grey: number[] = []
    for (let i = 0; i < d.length; i += 4) grey.push(d[i])
    return { width: c.width, height: c.height, grey }
  })
  const waitDone = async (page: any, name: string): Promise<void> => {
    await page.waitForFunction((n: string) => (window as any).mistViewer?.current?.name === n && (window as any).mistViewer.current.done === true, name, { timeout: 20_000 })
  }
  /** Screenshots for docs/ once every thumbnail of the list is drawn. */
  const thumbsDrawn = async (page: any): Promise<void> => {
    await page.waitForFunction(() => (window as any).mistViewer.log.filter((e: any) => e.thumb === true).length === 3, undefined, { timeout: 20_000 })
  }
  const epochLog = async (page: any): Promise<Array<{ name: string, level?: number, thumb?: boolean, t: number }>> => page.evaluate(() => (window as any).mistViewer.log.map((e: any) => ({ ...e, t: performance.timeOrigin + e.t })))

  it('lists the dataset and loads thumbnails only as they scroll into view', async (ctx) => {
    if (skip != null) ctx.skip()
    const page = await context.newPage()
    await page.setViewportSize({ width: 900, height: 128 })
    await page.goto(`${env.http}/?root=${env.root}`)
    await page.waitForFunction(() => (window as any).mistViewer.log.filter((e: any) => e.thumb === true).length >= 1, undefined, { timeout: 20_000 }).catch(async (err: any) => {
      console.error(await page.evaluate(() => JSON.stringify({ log: (window as any).mistViewer.log, err: document.getElementById('error')!.textContent, nav: document.getElementById('entries')!.getBoundingClientRect(), li: [...document.querySelectorAll('#entry-list li')].map(l => l.getBoundingClientRect()) })))
      throw err
    })
    await page.waitForTimeout(600)
    const before = (await epochLog(page)).filter(e => e.thumb === true).map(e => e.name)
    expect(before).toEqual(['ct/phantom.nii.gz'])
    expect(requests.filter(r => r.url.includes('xray')).length).toBe(0)
    // scrolling the list brings each entry into view in turn: its thumbnail loads then
    for (const [i, name] of ['photo.png', 'xray/chest.png'].entries()) {
      await page.evaluate((n: string) => document.querySelector(`#entry-list li[data-path="${n}"]`)!.scrollIntoView(), name)
      await page.waitForFunction((k: number) => (window as any).mistViewer.log.filter((e: any) => e.thumb === true).length === k, i + 2, { timeout: 20_000 })
    }
    expect((await epochLog(page)).filter(e => e.thumb === true).map(e => e.name)).toEqual(['ct/phantom.nii.gz', 'photo.png', 'xray/chest.png'])
    expect(await page.locator('#entry-list li').count()).toBe(3)
    await page.setViewportSize({ width: 1100, height: 760 })
    await page.click('#entry-list li[data-path="photo.png"]')
    await waitDone(page, 'photo.png')
    await thumbsDrawn(page)
    await page.screenshot({ path: join(DOCS, 'dataset-list.png') })
    await page.close()
  })

  it('shows level 0 first and refines to the full level; an 8-bit PNG source ends exactly as decoded', async (ctx) => {
    if (skip != null) ctx.skip()
    const page = await context.newPage()
    const start = requests.length
    await page.goto(`${env.http}/?root=${env.root}&path=photo.png`)
    await waitDone(page, 'photo.png')
    const log = (await epochLog(page)).filter(e => e.name === 'photo.png' && e.thumb !== true)
    const info: any = await (await fetch(`${env.http}/mist/${env.root}/photo.png`)).json()
    expect(log.map(e => e.level)).toEqual(info.levels.map((l: any) => l.level))
    // level 0 was on screen before the blocks of the finest level were asked for
    const lastLeaf = info.leaves[info.levels[info.levels.length - 1].leaves - 1].cid
    const lastLeafRequest = requests.slice(start).find(r => r.url.includes(lastLeaf))!
    expect(lastLeafRequest).toBeDefined()
    expect(log[0].t).toBeLessThan(lastLeafRequest.t)
    expect(await page.locator('#wl').isHidden()).toBe(true)
    const shown = await canvasGrey(page)
    const ref = await npy(`/mist/${env.root}/photo.png?format=npy`)
    expect([shown.height, shown.width]).toEqual(ref.shape)
    expect(shown.grey).toEqual(Array.from(ref.data))
    const text = await page.locator('#bytes').textContent()
    expect(text).toMatch(/of .* at full resolution \(100\.0 %\)/)
    await page.close()
  })

  it('a 12-bit radiograph: level 0 then full, the final canvas equals the full level through the stated window/level', async (ctx) => {
    if (skip != null) ctx.skip()
    const page = await context.newPage()
    await page.goto(`${env.http}/?root=${env.root}&path=xray/chest.png&level=0`)
    await waitDone(page, 'xray/chest.png')
    await thumbsDrawn(page)
    await page.screenshot({ path: join(DOCS, 'radiograph-level0.png') })
    await page.goto(`${env.http}/?root=${env.root}&path=xray/chest.png`)
    await waitDone(page, 'xray/chest.png')
    await thumbsDrawn(page)
    await page.screenshot({ path: join(DOCS, 'radiograph-full.png') })
    expect(await page.locator('#wl').isVisible()).toBe(true)
    const win = await page.evaluate(() => (window as any).mistViewer.window)
    expect(await page.evaluate(() => (window as any).mistViewer.rescale)).toEqual({ slope: 1, intercept: 0 })
    const shown = await canvasGrey(page)
    const ref = await npy(`/mist/${env.root}/xray/chest.png?format=npy`)
    expect([shown.height, shown.width]).toEqual(ref.shape)
    expect(shown.grey).toEqual(Array.from(ref.data, v => grey(v, win)))
    // a new window from the controls redraws with it
    await page.fill('#wl-width', String(Math.max(2, Math.round(win.width / 3))))
    const win2 = await page.evaluate(() => (window as any).mistViewer.window)
    expect(win2.width).toBe(Math.max(2, Math.round(win.width / 3)))
    expect((await canvasGrey(page)).grey).toEqual(Array.from(ref.data, v => grey(v, win2)))
    await page.close()
  })

  it('a volume: the slice slider shows level 0 while moving and refines the slice that stays', async (ctx) => {
    if (skip != null) ctx.skip()
    const page = await context.newPage()
    await page.goto(`${env.http}/?root=${env.root}&path=ct/phantom.nii.gz`)
    await waitDone(page, 'ct/phantom.nii.gz slice 6')
    await page.evaluate(() => {
      const s = document.getElementById('slice') as HTMLInputElement
      for (const z of [5, 4, 3]) { s.value = String(z); s.dispatchEvent(new Event('input')) }
    })
    await waitDone(page, 'ct/phantom.nii.gz slice 3')
    await page.waitForFunction(() => { const c = (window as any).mistViewer.current; return c.name.endsWith('slice 3') && c.level === c.levels - 1 }, undefined, { timeout: 20_000 })
    const log = (await epochLog(page)).filter(e => e.thumb !== true)
    const slice3 = log.filter(e => e.name === 'ct/phantom.nii.gz slice 3').map(e => e.level)
    expect(slice3[0]).toBe(0)
    const vol: any = await (await fetch(`${env.http}/mist/${env.root}/ct/phantom.nii.gz`)).json()
    expect(slice3[slice3.length - 1]).toBe(vol.levels.length - 1)
    await thumbsDrawn(page)
    await page.screenshot({ path: join(DOCS, 'volume.png') })
    const win = await page.evaluate(() => (window as any).mistViewer.window)
    // the window is in real-world units: the volume's rescale applies to its slices
    expect(vol.meta.rescale).toEqual({ slope: 1, intercept: -1024 })
    expect(await page.evaluate(() => (window as any).mistViewer.rescale)).toEqual(vol.meta.rescale)
    expect(win.center).toBeLessThan(0)
    const shown = await canvasGrey(page)
    const ref = await npy(`/mist/${env.root}/ct/phantom.nii.gz?slice=3&format=npy`)
    expect([shown.height, shown.width]).toEqual(ref.shape)
    expect(shown.grey).toEqual(Array.from(ref.data, v => grey(v, win, vol.meta.rescale)))
    await page.close()
  })

  it('no request left 127.0.0.1', (ctx) => {
    if (skip != null) ctx.skip()
    expect(requests.length).toBeGreaterThan(10)
    expect(blocked).toEqual([])
    for (const r of requests) expect(r.url.startsWith(`${env.http}/`), r.url).toBe(true)
  })
})
