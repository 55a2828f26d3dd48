import cliProgress from 'cli-progress'

/** A progress bar on stderr, shown only when a person is watching (stderr is a terminal and output is not --json). */
export interface Progress {
  addTotal: (n: number) => void
  increment: (n: number) => void
  /** Prints a line on stdout above the bar (the bar's line is cleared first and drawn again at the next update). */
  log: (line: string) => void
  stop: () => void
}

export function createProgress (label: string, unit: 'bytes' | 'files', enabled: boolean): Progress {
  if (!enabled || process.stderr.isTTY !== true) {
    return { addTotal () {}, increment () {}, log (line) { process.stdout.write(line) }, stop () {} }
  }
  const format = unit === 'bytes'
    ? `${label} [{bar}] {percentage}% | {value_h} / {total_h} | eta {eta_formatted}`
    : `${label} [{bar}] {percentage}% | {value} / {total} | eta {eta_formatted}`
  const bar = new cliProgress.SingleBar({ format, stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50 }, cliProgress.Presets.shades_classic)
  let total = 0
  let value = 0
  const human = (): Record<string, string> => ({ value_h: formatBytes(value), total_h: formatBytes(total) })
  bar.start(0, 0, human())
  return {
    addTotal (n) { total += n; bar.setTotal(total); bar.update(value, human()) },
    increment (n) { value += n; bar.update(value, human()) },
    log (line) { if (process.stdout.isTTY === true) process.stderr.write('\r\x1b[2K'); process.stdout.write(line) },
    stop () { bar.stop() }
  }
}

export function formatBytes (n: number): string {
  if (n < 1024) return `${n} B`
  const units = ['KiB', 'MiB', 'GiB', 'TiB']
  let v = n / 1024
  let i = 0
  while (v >= 1024 && i < units.length - 1) { v /= 1024; i++ }
  return `${v.toFixed(v < 10 ? 2 : 1)} ${units[i]}`
}
