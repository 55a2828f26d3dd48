/** Renders results into bench/RESULTS.md (tables) and SVG charts (hand-written, no dependency). */
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

const f = (x: any, d = 2): string => (typeof x === 'number' && Number.isFinite(x)) ? x.toFixed(d) : (x === Infinity ? '∞' : '–')
const mb = (x: number): string => f(x / 1e6, 2)
const kib = (x: number): string => f(x / 1024, 1)

interface Series { name: string, color: string, values: number[] }
function barChart (title: string, groups: string[], series: Series[], unit: string, log: boolean): string {
  const W = 760; const H = 360; const L = 70; const B = 60; const T = 40; const R = 160
  const vals = series.flatMap(s => s.values).filter(v => Number.isFinite(v) && v > 0)
  const max = Math.max(...vals, 1e-9); const min = Math.min(...vals, max)
  const lo = log ? 10 ** Math.floor(Math.log10(min)) : 0
  const hi = log ? 10 ** Math.ceil(Math.log10(max)) : max * 1.1
  const y = (v: number): number => T + (H - T - B) * (1 - (log ? (Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo)) : v / hi))
  const gw = (W - L - R) / groups.length; const bw = gw * 0.8 / series.length
  const out = [`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`, `<rect width="${W}" height="${H}" fill="white"/>`, `<text x="${L}" y="20" font-size="14">${title}</text>`]
  const ticks = log ? Array.from({ length: Math.round(Math.log10(hi / lo)) + 1 }, (_, i) => lo * 10 ** i) : Array.from({ length: 6 }, (_, i) => hi * i / 5)
  for (const t of ticks) out.push(`<line x1="${L}" x2="${W - R}" y1="${y(t)}" y2="${y(t)}" stroke="#ddd"/><text x="${L - 4}" y="${y(t) + 4}" text-anchor="end">${t >= 1000 ? t.toExponential(0) : +t.toPrecision(3)}</text>`)
  out.push(`<text x="14" y="${T + (H - T - B) / 2}" transform="rotate(-90 14 ${T + (H - T - B) / 2})" text-anchor="middle">${unit}${log ? ' (log)' : ''}</text>`)
  groups.forEach((g, i) => {
    series.forEach((s, j) => {
      const v = s.values[i]
      if (!Number.isFinite(v) || v <= 0) return
      const x = L + i * gw + gw * 0.1 + j * bw
      out.push(`<rect x="${x.toFixed(1)}" y="${y(v).toFixed(1)}" width="${(bw - 1).toFixed(1)}" height="${(H - B - y(v)).toFixed(1)}" fill="${s.color}"><title>${s.name}: ${+v.toPrecision(4)} ${unit}</title></rect>`)
    })
    out.push(`<text x="${L + i * gw + gw / 2}" y="${H - B + 16}" text-anchor="middle">${g}</text>`)
  })
  series.forEach((s, j) => out.push(`<rect x="${W - R + 10}" y="${T + j * 18}" width="12" height="12" fill="${s.color}"/><text x="${W - R + 26}" y="${T + j * 18 + 10}">${s.name}</text>`))
  out.push('</svg>')
  return out.join('\n')
}
const COLORS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b']

export async function renderAll (r: any, benchDir: string): Promise<string> {
  const kind = r.quick ? 'quick' : 'full'
  const charts = join(benchDir, 'results')
  await mkdir(charts, { recursive: true })
  const prefix = r.quick ? 'quick-' : ''
  const s = r.sections
  const m = r.machine
  const L: string[] = ['# Benchmark results', '',
    `Reproduce: \`${r.command}\` (${f(r.seconds / 60, 1)} min${r.quick ? ', quick mode: smaller inputs, 1 repetition, no network namespaces' : ''}). Started ${r.started}. Medians over ${r.reps} repetition(s) unless noted; every ratio is against a baseline measured in the same run.`, '',
    `Machine: ${m.cpus} cores (${m.model}), ${m.memoryGiB} GiB, Linux ${m.kernel}, Node ${m.node}, mist-p2p ${m.mistP2p}. Versions: ${Object.entries(m.versions).map(([k, v]) => `${k} ${v}`).join(', ')}.`, '']

  if (s.storage != null && s.storage.error == null) {
    const st = s.storage
    L.push('## 1. Storage, one copy', '', `Bytes stored per modality (real fixtures; volumes sampled to at most ${st.maxSlicesPerVolume} slices, original bytes prorated). mist-p2p = raw leaves + level files + image root, from the DAG builder. Classic J2K = \`opj_compress\` defaults (lossless 5/3) on a PGM of the same pixels; gzip -9 = zlib level 9 of the raw samples; pyramid = original file + PNG copies area-averaged to 512/256/128 px.`, '',
      '| modality | files | images | original MB | raw MB | gzip -9 MB | classic J2K MB | mist-p2p MB | pyramid MB | mist / original | mist / raw | mist / gzip | mist / J2K | mist / pyramid |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const x of [...st.byModality, st.total]) L.push(`| ${x.modality === 'all' ? '**all**' : x.modality} | ${x.files} | ${x.images} | ${mb(x.original)} | ${mb(x.raw)} | ${mb(x.gzip9)} | ${mb(x.opj)} | ${mb(x.mist)} | ${mb(x.pyramid)} | ${f(x.mistVsOriginal, 3)} | ${f(x.mistVsRaw, 3)} | ${f(x.mistVsGzip9, 3)} | ${f(x.mistVsOpj, 3)} | ${f(x.mistVsPyramid, 3)} |`)
    if (st.repo?.blockBytes != null) L.push('', `Real repo after \`mist-p2p publish\` of the same ${st.repo.files} files (${st.repo.images} images, every slice): blockstore ${mb(st.repo.blockBytes)} MB against ${mb(st.repo.originalBytes)} MB of original files = **${f(st.repo.ratio, 3)}x**.`)
    L.push('')
  }
  if (s.wire != null && s.wire.error == null) {
    L.push('## 2. Bytes on the wire per level', '', 'Wire = TCP payload bytes the getter process read (`socket.bytesRead` on its TCP sockets via `bench/hooks/meter.ts`: includes pnet, noise, yamux, bitswap framing, the image root and level-file lookups; excludes IP/TCP headers), `mist-p2p get --level K --format j2c` into a fresh repo. Codestream = the level prefix + EOC (what a perfect transport would send). Range 64 KiB = a Cornerstone-style client reading the J2C with fixed 64 KiB HTTP Range requests until it holds the prefix.', '')
    L.push('| image | level | size | codestream B | wire B | wire / codestream | overhead B | codestream / full | range-64KiB wire B | mist / range | mist / full J2C download | mist / original download |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const img of s.wire.images) for (const x of img.rows) L.push(`| ${img.name} | ${x.level} | ${x.width}x${x.height} | ${x.codestream} | ${x.wire} | ${f(x.overhead, 3)} | ${x.overheadBytes} | ${f(100 * x.shareOfFull, 2)} % | ${x.range64k} (${x.rangeRequests} req) | ${f(x.vsRange, 3)} | ${f(x.vsFullJ2c, 3)} | ${f(x.vsOriginal, 3)} |`)
    L.push('')
    const img = s.wire.images[0]
    if (img != null) {
      await writeFile(join(charts, `${prefix}bytes-per-level.svg`), barChart(`Bytes moved per level: ${img.name}`, img.rows.map((x: any) => `L${x.level} ${x.width}px`), [
        { name: 'codestream prefix', color: COLORS[0], values: img.rows.map((x: any) => x.codestream) },
        { name: 'mist-p2p wire', color: COLORS[1], values: img.rows.map((x: any) => x.wire) },
        { name: 'HTTP Range 64 KiB', color: COLORS[2], values: img.rows.map((x: any) => x.range64k) },
        { name: 'full J2C download', color: COLORS[3], values: img.rows.map(() => img.fullJ2cWire) }
      ], 'bytes', true))
      L.push(`![bytes per level](results/${prefix}bytes-per-level.svg)`, '')
    }
  }
  if (s.codec != null && s.codec.error == null) {
    const c = s.codec
    L.push('## 3. Codec and pipeline speed (one core unless noted)', '', `HTJ2K = OpenJPH WASM in process; classic J2K = \`opj_compress\`/\`opj_decompress\` processes with their start-up (${f(c.opjStartupMs.encode, 0)} / ${f(c.opjStartupMs.decode, 0)} ms on a 64x64 image) subtracted; gzip = zlib level 9 in process.`, '',
      '| image | HTJ2K B | J2K B | gzip -9 B | encode Mpx/s | decode Mpx/s | J2K enc Mpx/s | J2K dec Mpx/s | gzip -9 Mpx/s | gunzip Mpx/s | encode vs J2K | decode vs J2K | encode vs gzip -9 | decode vs gunzip |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const x of c.rows) L.push(`| ${x.case} | ${x.htj2kBytes} | ${x.opjBytes} | ${x.gzip9Bytes} | ${f(x.encodeMpxs, 1)} | ${f(x.decodeMpxs, 1)} | ${f(x.opjEncodeMpxs, 1)} | ${f(x.opjDecodeMpxs, 1)} | ${f(x.gzipMpxs, 1)} | ${f(x.gunzipMpxs, 1)} | ${f(x.encodeVsOpj, 1)}x | ${f(x.decodeVsOpj, 1)}x | ${f(x.encodeVsGzip, 1)}x | ${f(x.decodeVsGunzip, 2)}x |`)
    L.push('', 'Decode time per level (ms):', '')
    for (const x of c.rows) L.push(`- ${x.case}: ${x.levels.map((l: any) => `${l.width}px ${f(l.ms, 2)}`).join(' · ')}`)
    L.push('', `Publish throughput (library \`publish()\` of ${c.publish.runs[0].images} PNG 512x512 12-bit into a fresh repo):`, '', '| workers | ms | images/s | Mpx/s | of the codec (encode Mpx/s of the 512x512 row x workers) | the same images encoded by the pool alone, Mpx/s | of that |', '|---:|---:|---:|---:|---:|---:|---:|')
    for (const x of c.publish.runs) L.push(`| ${x.workers} | ${f(x.ms, 0)} | ${f(x.imagesPerS, 1)} | ${f(x.mpxPerS, 1)} | ${x.ofCodec != null ? f(x.ofCodec, 2) : '–'} | ${x.poolEncodeMpxs != null ? f(x.poolEncodeMpxs, 1) : '–'} | ${x.ofPool != null ? f(x.ofPool, 2) : '–'} |`)
    L.push('', `Scaling, all cores against one worker: **${f(c.publish.scaling, 2)}x**.`, '')
    const cs = c.publish.series
    if (cs != null && cs.skipped == null) L.push(`Uncompressed DICOM CT series (${cs.slices} slices of ${cs.width}x${cs.height}, one volume, written by bench/tools/ct-series.py from the fixtures' uncompressed CT slice), \`publish()\` with ${cs.workers} workers: ${f(cs.ms, 0)} ms = ${f(cs.mpxPerS, 1)} Mpx/s against ${f(cs.sliceEncodeMpxs, 1)} Mpx/s encode of one slice on one core = **${f(cs.ofCodec, 2)}** of the codec x workers; the pool alone encodes the slice at ${f(cs.poolEncodeMpxs, 1)} Mpx/s with the same workers: publish = **${f(cs.ofPool, 2)}** of that.`, '')
    else if (cs?.skipped != null) L.push(`Uncompressed DICOM CT series: skipped (${cs.skipped}).`, '')
  }
  if (s.pulls != null && s.pulls.error == null) {
    const d = r.dataset
    L.push('## 4. Dataset pulls', '', `Dataset: ${d.images} images in ${d.entries} entries (${d.files} files: ${r.quick ? 'a few real fixtures' : 'every real DICOM and PNG fixture (CT, MR, CR, DX, US, NM, XA, OT; the NIfTI volumes are measured in sections 1 and 6)'} + synthetic 256x256 12-bit), ${r.quick ? 1 : 2} run(s) per pull and per HTTP baseline (median; bitswap alone: 1 run), published in ${f(d.publishWallMs / 1000, 1)} s. Getter = \`mist-p2p get <root> --size PX|--level full --peer …\` in a fresh repo, a separate process; seeders = \`mist-p2p serve\` processes; protocol = how blocks moved: mist-p2p's block protocol (the product) or bitswap alone (the getter run with MIST_P2P_BITSWAP_ONLY=1), the stack's own baseline. Time = from the getter's first TCP connect to its exit (dial, fetch, decode, write files; the ~1 s Node/Helia start-up before it is excluded, and shown as wall). MB/s = wire MB / time. Raw stream = one libp2p stream between two createMistNode nodes (pnet+noise+yamux) carrying bytes and nothing else. HTTP = download every original file (8 keep-alive connections) + decode + area-average to the same size + write PNG, in one getter process on one thread (a typical script); each original is decoded once per run and a size's time is the download + that decode + its own averaging and writing. mist-p2p's getter decodes and writes PNGs on its codec workers (as many as cores).`, '')
    for (const key of ['loopback', 'shaped']) {
      const p = s.pulls[key]
      if (p == null) continue
      L.push(`### ${key === 'loopback' ? 'Loopback' : 'Shaped link'}: ${p.link}`, '', `Raw libp2p stream ceiling: **${f(p.raw.MBps, 1)} MB/s** (${p.raw.mib} MiB per run). HTTP download of the originals: ${f(p.http[0].downloadMs / 1000, 2)} s, ${mb(p.http[0].wire)} MB.`, '',
        '| level | seeders | protocol | images | codestream MB | wire MB | wire / codestream | time s | wall s | MB/s | of raw ceiling | images/s | KiB/image | time vs bitswap | HTTP time s | time vs HTTP | bytes vs HTTP | getter RSS MiB |', '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
      for (const x of p.pulls) {
        const h = p.http.find((y: any) => y.selection === x.selection)
        const bs = p.pulls.find((y: any) => y.selection === x.selection && y.protocol === 'bitswap')
        L.push(`| ${x.selection} | ${x.seeders} | ${x.protocol ?? 'bitswap'} | ${x.images} | ${mb(x.codestreamBytes)} | ${mb(x.wire)} | ${f(x.overhead, 3)} | ${f(x.netMs / 1000, 2)} | ${f(x.wallMs / 1000, 2)} | ${f(x.MBps, 1)} | ${f(100 * x.ofRawCeiling, 0)} % | ${f(x.imagesPerS, 0)} | ${kib(x.bytesPerImage)} | ${bs != null ? f(x.netMs / bs.netMs, 3) : '–'} | ${f(h.ms / 1000, 2)} | ${f(x.vsHttpTime, 3)} | ${f(x.vsHttpBytes, 3)} | ${f(x.rssKiB / 1024, 0)} |`)
      }
      L.push('')
      const sels = [...new Set(p.pulls.map((x: any) => x.selection))] as string[]
      const row = (sel: string, n: number, protocol = 'blocks'): any => p.pulls.find((x: any) => x.selection === sel && x.seeders === n && (x.protocol ?? 'bitswap') === protocol)
      const t = (sel: string, n: number, protocol = 'blocks'): number => row(sel, n, protocol)?.netMs / 1000
      await writeFile(join(charts, `${prefix}pull-time-${key}.svg`), barChart(`Pull time per level, ${d.images} images (${key})`, sels, [
        { name: 'mist-p2p, 1 seeder', color: COLORS[0], values: sels.map(x => t(x, 1)) },
        { name: 'mist-p2p, 2 seeders', color: COLORS[1], values: sels.map(x => t(x, 2)) },
        { name: 'bitswap alone, 1 seeder', color: COLORS[4] ?? '#777777', values: sels.map(x => t(x, 1, 'bitswap')) },
        { name: 'raw stream (same bytes)', color: COLORS[2], values: sels.map(x => row(x, 1).wire / 1e6 / p.raw.MBps) },
        { name: 'HTTP originals + downsample', color: COLORS[3], values: sels.map(x => p.http.find((y: any) => y.selection === x).ms / 1000) }
      ], 'seconds', true))
      L.push(`![pull time ${key}](results/${prefix}pull-time-${key}.svg)`, '')
    }
    if (s.pulls.shapedSkipped != null) L.push(`Shaped link skipped: ${s.pulls.shapedSkipped}.`, '')
  }
  if (s.kubo != null && s.kubo.error == null) {
    const k = s.kubo
    if (k.skipped != null) L.push('## 4b. Pull from a Kubo seeder', '', `Skipped: ${k.skipped}.`, '')
    else {
      L.push('## 4b. Pull from a Kubo seeder', '', `The pull dataset exported as one CAR (${mb(k.carBytes)} MB) and \`ipfs dag import\`ed into ${k.kubo} (${f(k.importMs / 1000, 1)} s), running with the consortium's swarm key on ${k.link}; the same getter command with \`--peer\` the Kubo node (bitswap: Kubo does not speak /mist/blocks), a \`mist-p2p serve\` seeder (block protocol), and that seeder with the getter on bitswap alone. Measured in the same run; time = first TCP connect to exit, as in section 4.`, '',
        '| level | seeder | protocol | codestream MB | wire MB | wire / codestream | time s | MB/s | time vs mist-p2p seeder |', '|---|---|---|---:|---:|---:|---:|---:|---:|')
      for (const x of k.pulls) L.push(`| ${x.selection} | ${x.seeder} | ${x.protocol} | ${mb(x.codestreamBytes)} | ${mb(x.wire)} | ${f(x.overhead, 3)} | ${f(x.netMs / 1000, 2)} | ${f(x.MBps, 1)} | ${f(x.vsMistSeeder, 2)}x |`)
      L.push('')
    }
  }
  if (s.quality != null && s.quality.error == null) {
    const q = s.quality
    L.push('## 5. Quality of reduced levels', '', 'Median PSNR (peak = the image\'s max - min) and mean-SSIM of the level image against two references from the original: **box** = area average of the 2^r block starting at 2^r·n (a usual downsampler; its sample centre is 2^r·n + (2^r-1)/2) and **aligned** = average of the 2^r window centred on 2^r·n, where the 5/3 LL sample sits. The difference between the two columns is the half-block phase shift, not a loss: the LL band is a lowpass sampled on the even grid.', '',
      '| modality | factor | n | PSNR box dB | PSNR aligned dB | SSIM box | SSIM aligned |', '|---|---:|---:|---:|---:|---:|---:|')
    for (const x of q.rows) L.push(`| ${x.modality} | 1/${x.factor} | ${x.n} | ${f(x.psnrBox, 1)} | ${f(x.psnrAligned, 1)} | ${f(x.ssimBox, 4)} | ${f(x.ssimAligned, 4)} |`)
    L.push('', `Bit-exact full-level round trips: **${q.roundTrip.bitExact} / ${q.roundTrip.images}** images (every slice of every readable real fixture + synthetic).${q.roundTrip.mismatches.length > 0 ? ` Not exact / failed: ${q.roundTrip.mismatches.join('; ')}` : ''}`, '')
  }
  if (s.memory != null && s.memory.error == null) {
    const mm = s.memory
    L.push('## 6. Memory (peak RSS, codec workers included)', '', 'Peak RSS = VmHWM of each process (`bench/hooks/meter.ts`); anon = the peak of its anonymous part (RssAnon sampled every 200 ms), the figure to compare: VmHWM also counts the pages of an LMDB repo database that the process touched (page cache, shared and reclaimable). Get = `mist-p2p get --level full` over 127.0.0.1 from a `mist-p2p serve` seeder. Live heap = the main thread\'s JS heap at exit after a full collection (`--expose-gc`): what the process still holds once the whole input went through it. 256x256 int16 slices and 12-bit images are 128 KiB of pixels each; a process that held its input would grow by at least that per image.', '',
      '| input | images | publish RSS MiB | publish anon MiB | get RSS MiB | get anon MiB | seeder RSS MiB | seeder anon MiB | publish live heap MiB | get live heap MiB | publish s | get wall s |', '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|')
    for (const x of mm.rows) L.push(`| ${x.input} | ${x.images} | ${f(x.publishRssMiB, 0)} | ${f(x.publishAnonMiB, 0)} | ${f(x.getRssMiB, 0)} | ${f(x.getAnonMiB, 0)} | ${f(x.seederRssMiB, 0)} | ${f(x.seederAnonMiB, 0)} | ${f(x.publishLiveMiB, 1)} | ${f(x.getLiveMiB, 1)} | ${f(x.publishMs / 1000, 1)} | ${f(x.getMs / 1000, 1)} |`)
    const g = mm.growthKiBPerImage
    L.push('', `Growth from the smallest to the largest size, KiB per extra image: volume publish ${f(g.volumePublish, 1)}, get ${f(g.volumeGet, 1)} (live heap ${f(g.volumeGetLive, 2)}), seeder ${f(g.volumeSeeder, 1)}; dataset publish ${f(g.datasetPublish, 1)}, get ${f(g.datasetGet, 1)} (live heap ${f(g.datasetGetLive, 2)}), seeder ${f(g.datasetSeeder, 1)}; anonymous: volume get ${f(g.volumeGetAnon, 1)}, dataset publish ${f(g.datasetPublishAnon, 1)}, get ${f(g.datasetGetAnon, 1)}.${[g.volumeGet, g.datasetGet].every((x: number) => x < 64) && [g.volumeGetLive, g.datasetGetLive].every((x: number) => Math.abs(x) < 1) ? ' The get\'s live heap stays flat (under 1 KiB per image); its peak RSS grows by less than half the 128 KiB of pixels per image that holding the input would cost (V8 leaves garbage longer in a longer run).' : ''}`, '')
  }
  for (const [k, v] of Object.entries(s) as any) if (v?.error != null) L.push(`Section ${k} failed: ${v.error}`, '')
  const md = L.join('\n')
  await writeFile(kind === 'quick' ? join(charts, 'QUICK.md') : join(benchDir, 'RESULTS.md'), md.replaceAll('](results/', kind === 'quick' ? '](' : '](results/'))
  return md
}
