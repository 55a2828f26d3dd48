// mist-p2p viewer: browses a dataset on this node's gateway and shows images level by level.
// Blocks come from the trustless gateway (/ipfs/<cid>?format=raw), each checked against its CID
// (sha2-256) before use; the HTJ2K prefix of a level is decoded here with OpenJPH's WASM build.
// Display of samples wider than 8 bits (or signed), v = the real-world value (slope * sample +
// intercept when the root has a rescale, else the sample): grey = 0 at or below centre - width/2,
// 255 at or above centre + width/2, else round((v - (centre - width/2)) * 255 / width).

const $ = id => document.getElementById(id)
const EOC = new Uint8Array([0xff, 0xd9])

/** What tests and curious users can read: the order levels were drawn in, the window, the bytes. */
const exposed = { log: [], window: null, fetchedBytes: 0, current: null }
window.mistViewer = exposed

const codec = window.Module({ locateFile: f => `/viewer/${f}` })

// --- blocks, verified ----------------------------------------------------------------------

const B32 = 'abcdefghijklmnopqrstuvwxyz234567'
/** The sha2-256 digest in a base32 CIDv1 (the only kind mist-p2p makes). */
function cidDigest (cid) {
  if (cid[0] !== 'b') throw new Error(`${cid}: not a base32 CIDv1`)
  const out = []
  let bits = 0
  let value = 0
  for (const ch of cid.slice(1)) {
    const v = B32.indexOf(ch)
    if (v < 0) throw new Error(`${cid}: not base32`)
    value = (value << 5) | v
    bits += 5
    if (bits >= 8) { out.push((value >>> (bits - 8)) & 255); bits -= 8 }
  }
  const bytes = new Uint8Array(out)
  if (bytes[bytes.length - 34] !== 0x12 || bytes[bytes.length - 33] !== 0x20) throw new Error(`${cid}: not a sha2-256 CID`)
  return bytes.subarray(bytes.length - 32)
}

const blocks = new Map()
function block (cid) {
  if (!blocks.has(cid)) {
    const p = (async () => {
      const res = await fetch(`/ipfs/${cid}?format=raw`, { headers: { accept: 'application/vnd.ipld.raw' } })
      if (!res.ok) throw new Error(`block ${cid}: ${res.status} ${await res.text()}`)
      const bytes = new Uint8Array(await res.arrayBuffer())
      const digest = new Uint8Array(await crypto.subtle.digest('SHA-256', bytes))
      const want = cidDigest(cid)
      if (digest.length !== want.length || digest.some((b, i) => b !== want[i])) throw new Error(`block ${cid}: the bytes received do not match the CID (not used)`)
      exposed.fetchedBytes += bytes.byteLength
      return bytes
    })()
    p.catch(() => blocks.delete(cid))
    blocks.set(cid, p)
  }
  return blocks.get(cid)
}

const json = new Map()
async function getJson (url) {
  if (!json.has(url)) {
    json.set(url, fetch(url).then(async r => { if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`); return r.json() }))
    json.get(url).catch(() => json.delete(url))
  }
  return json.get(url)
}

// --- decoding ------------------------------------------------------------------------------

/** Level k of an image root (as /mist JSON describes it): its leaves fetched, + EOC, decoded at reduce D - k. */
async function decodeLevel (img, k) {
  const lv = img.levels[k]
  const parts = await Promise.all(img.leaves.slice(0, lv.leaves).map(l => block(l.cid)))
  const length = parts.reduce((a, p) => a + p.byteLength, 0) + 2
  const stream = new Uint8Array(length)
  let at = 0
  for (const p of parts) { stream.set(p, at); at += p.byteLength }
  stream.set(EOC, at)
  const m = await codec
  const d = new m.HTJ2KDecoder()
  try {
    d.getEncodedBuffer(length).set(stream)
    d.readHeader()
    const info = d.getFrameInfo()
    const reduce = img.levels.length - 1 - k
    const size = d.calculateSizeAtDecompositionLevel(reduce)
    if (size.width !== lv.width || size.height !== lv.height) throw new Error(`level ${k} is ${size.width}x${size.height}, the root says ${lv.width}x${lv.height}`)
    if (reduce === 0) d.decode(); else d.decodeSubResolution(reduce)
    const bytes = d.getDecodedBuffer().slice()
    const bits = info.bitsPerSample
    const n = size.width * size.height * info.componentCount
    const data = bits <= 8 ? bytes.subarray(0, n) : info.isSigned ? new Int16Array(bytes.buffer, 0, n) : new Uint16Array(bytes.buffer, 0, n)
    // window/level works on real-world values (CT: Hounsfield units) when the root has a rescale
    const r = img.meta?.rescale
    const rescale = r != null && Number.isFinite(r.slope) && Number.isFinite(r.intercept) && r.slope !== 0 ? r : { slope: 1, intercept: 0 }
    return { width: size.width, height: size.height, components: info.componentCount, bits, signed: info.isSigned, data, rescale }
  } finally {
    d.delete()
  }
}

/** A slice's image root with the volume's rescale when the slice has none of its own. */
function withRescale (slice, volume) {
  if (slice.meta?.rescale != null || volume.meta?.rescale == null) return slice
  return { ...slice, meta: { ...slice.meta, rescale: volume.meta.rescale } }
}

function needsWindow (dec) { return dec.bits > 8 || dec.signed }

/** From the 1st to the 99th percentile of a (small, coarse) level: a few bright or dark outliers do not flatten the contrast. */
function defaultWindow (dec) {
  const { slope, intercept } = dec.rescale
  const sorted = Float64Array.from(dec.data, v => slope * v + intercept).sort()
  const lo = sorted[Math.floor(0.01 * (sorted.length - 1))]
  const hi = sorted[Math.ceil(0.99 * (sorted.length - 1))]
  return { center: Math.round((lo + hi) / 2), width: Math.max(1, Math.round(hi - lo)) }
}

function toImageData (dec, win) {
  const out = new ImageData(dec.width, dec.height)
  const px = out.data
  const n = dec.width * dec.height
  const lo = win != null ? win.center - win.width / 2 : 0
  const { slope, intercept } = dec.rescale
  const grey = s => { if (win == null) return s; const v = slope * s + intercept; return v <= lo ? 0 : v >= lo + win.width ? 255 : Math.round((v - lo) * 255 / win.width) }
  for (let i = 0; i < n; i++) {
    if (dec.components >= 3) {
      px[4 * i] = dec.data[3 * i]; px[4 * i + 1] = dec.data[3 * i + 1]; px[4 * i + 2] = dec.data[3 * i + 2]
    } else {
      const g = grey(dec.data[i])
      px[4 * i] = g; px[4 * i + 1] = g; px[4 * i + 2] = g
    }
    px[4 * i + 3] = 255
  }
  return out
}

/** Draws a decoded level onto a canvas of the finest level's size (coarser levels scaled up). */
function draw (canvas, dec, win, full) {
  canvas.width = full.width
  canvas.height = full.height
  const ctx = canvas.getContext('2d')
  const data = toImageData(dec, needsWindow(dec) ? win : null)
  if (dec.width === full.width && dec.height === full.height) { ctx.putImageData(data, 0, 0); return }
  const off = new OffscreenCanvas(dec.width, dec.height)
  off.getContext('2d').putImageData(data, 0, 0)
  ctx.imageSmoothingEnabled = true
  ctx.drawImage(off, 0, 0, full.width, full.height)
}

// --- the view ------------------------------------------------------------------------------

const params = new URLSearchParams(location.search)
const root = params.get('root')
// ?level=K stops the refinement at level K (to compare levels, or to save bytes)
const maxLevel = params.get('level') != null && /^\d+$/.test(params.get('level')) ? Number(params.get('level')) : Infinity
const encPath = p => p.split('/').map(encodeURIComponent).join('/')
const entryUrl = path => path == null ? `/mist/${root}` : `/mist/${root}/${encPath(path)}`

let token = 0
let shown = null // { dec, full } of the view, redrawn when the window changes

function formatBytes (n) { return n < 1024 ? `${n} B` : n < 1048576 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1048576).toFixed(2)} MiB` }

function showError (err) {
  $('error').hidden = false
  $('error').textContent = String(err?.message ?? err)
}

function setWindow (win) {
  exposed.window = win
  $('wl-center').value = String(win.center)
  $('wl-width').value = String(win.width)
}

/** Shows an image root's levels from coarsest to `upTo` (default the finest); stops when another view starts. */
async function refine (img, name, my, from = 0, upTo = img.levels.length - 1) {
  const full = img.levels[img.levels.length - 1]
  upTo = Math.min(upTo, maxLevel)
  for (let k = from; k <= upTo; k++) {
    const dec = await decodeLevel(img, k)
    if (my !== token) return
    if (needsWindow(dec) && exposed.window == null) setWindow(defaultWindow(dec))
    exposed.rescale = dec.rescale
    $('wl').hidden = !needsWindow(dec)
    draw($('canvas'), dec, exposed.window, full)
    shown = { dec, full }
    exposed.current = { name, level: k, levels: img.levels.length, done: k === upTo }
    exposed.log.push({ name, level: k, t: performance.now() })
    const lv = img.levels[k]
    $('level-info').textContent = `level ${k} of ${img.levels.length - 1}: ${lv.width}×${lv.height}`
    $('bytes').textContent = `this image: ${formatBytes(lv.bytes)} of ${formatBytes(full.bytes)} at full resolution (${(100 * lv.bytes / full.bytes).toFixed(1)} %); fetched this session: ${formatBytes(exposed.fetchedBytes)}`
  }
}

let sliceTimer
async function openEntry (path, kind) {
  const my = ++token
  exposed.window = null
  exposed.current = null
  $('view').hidden = false
  $('error').hidden = true
  $('title').textContent = path ?? root
  $('slices').hidden = true
  history.replaceState(null, '', `/?${new URLSearchParams({ root, ...(path != null ? { path } : {}), ...(Number.isFinite(maxLevel) ? { level: String(maxLevel) } : {}) })}`)
  for (const li of document.querySelectorAll('#entry-list li')) li.classList.toggle('selected', li.dataset.path === path)
  const info = await getJson(entryUrl(path))
  if (my !== token) return
  if (info.kind === 'image') return refine(info, path ?? root, my)
  if (info.kind !== 'volume') throw new Error(`${path ?? root} is a ${info.kind}`)
  const slider = $('slice')
  slider.max = String(info.slices - 1)
  slider.value = String(Math.floor(info.slices / 2))
  $('slices').hidden = false
  // a volume's rescale is in the volume root, not in its slices' roots
  const sliceJson = async z => withRescale(await getJson(`${entryUrl(path)}?slice=${z}`), info)
  const showSlice = async (refineAll) => {
    const z = Number(slider.value)
    $('slice-out').textContent = `${z + 1} / ${info.slices}`
    const mine = ++token
    const img = await sliceJson(z)
    if (mine !== token) return
    // while the slider moves: the coarsest level; the slice that stays is refined to full
    await refine(img, `${path ?? root} slice ${z}`, mine, 0, refineAll ? img.levels.length - 1 : 0)
  }
  slider.oninput = () => {
    clearTimeout(sliceTimer)
    showSlice(false).catch(showError)
    sliceTimer = setTimeout(() => showSlice(true).catch(showError), 300)
  }
  return showSlice(true)
}

// --- the dataset list, thumbnails loaded as they scroll into view ----------------------------

const thumbs = new IntersectionObserver(entries => {
  for (const e of entries) {
    if (!e.isIntersecting || e.intersectionRatio < 0.5) continue
    thumbs.unobserve(e.target)
    loadThumb(e.target).catch(err => { e.target.title = String(err.message ?? err) })
  }
}, { root: $('entries'), threshold: 0.5 })

async function loadThumb (canvas) {
  const { path, kind, slices } = canvas.dataset
  const img = kind === 'volume' ? withRescale(await getJson(`${entryUrl(path)}?slice=${Math.floor(Number(slices) / 2)}`), await getJson(entryUrl(path))) : await getJson(entryUrl(path))
  const dec = await decodeLevel(img, 0)
  draw(canvas, dec, needsWindow(dec) ? defaultWindow(dec) : null, dec)
  exposed.log.push({ name: path, thumb: true, t: performance.now() })
}

let after = null
let listing = false
async function loadPage () {
  if (listing || after === undefined) return
  listing = true
  try {
    const page = await getJson(`/mist/${root}?limit=50${after != null ? `&after=${encodeURIComponent(after)}` : ''}`)
    const list = $('entry-list')
    for (const e of page.entries) {
      const li = document.createElement('li')
      li.dataset.path = e.name
      const c = document.createElement('canvas')
      Object.assign(c.dataset, { path: e.name, kind: e.kind, slices: String(e.slices ?? 0) })
      const text = document.createElement('div')
      const full = e.levels[e.levels.length - 1]
      text.innerHTML = '<div class="name"></div><div class="dims"></div>'
      text.firstChild.textContent = e.name
      text.lastChild.textContent = `${e.kind === 'volume' ? `${e.width}×${e.height}×${e.slices}` : `${e.width}×${e.height}`} ${e.modality ?? ''} · ${formatBytes(full.bytes)} full, ${formatBytes(e.levels[0].bytes)} at ${e.levels[0].width} px`
      li.append(c, text)
      li.onclick = () => openEntry(e.name, e.kind).catch(showError)
      list.append(li)
      thumbs.observe(c)
    }
    after = page.next ?? undefined
    $('more').hidden = after === undefined
  } finally {
    listing = false
  }
}

async function start () {
  if (root == null) { $('summary').textContent = 'give a root CID (mist-p2p open <root> prints this page\'s URL)'; return }
  $('root-input').value = root
  const top = await getJson(`/mist/${root}`)
  if (top.kind !== 'dataset') { $('entries').hidden = true; return openEntry(undefined, top.kind) }
  $('summary').textContent = `dataset of ${top.count} entries, ${formatBytes(top.levels[0].bytes)} at level 0, ${formatBytes(top.total)} in full`
  new IntersectionObserver(es => { if (es.some(e => e.isIntersecting)) loadPage().catch(showError) }, { root: $('entries') }).observe($('more'))
  await loadPage()
  if (params.get('path') != null) await openEntry(params.get('path'))
}

for (const id of ['wl-center', 'wl-width']) {
  $(id).addEventListener('input', () => {
    const center = Number($('wl-center').value)
    const width = Math.max(1, Number($('wl-width').value))
    if (!Number.isFinite(center) || !Number.isFinite(width)) return
    exposed.window = { center, width }
    if (shown != null) draw($('canvas'), shown.dec, exposed.window, shown.full)
  })
}
$('open-form').addEventListener('submit', ev => { ev.preventDefault(); location.search = `?root=${encodeURIComponent($('root-input').value.trim())}` })
start().catch(showError)
