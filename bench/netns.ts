/**
 * A shaped link made by the benchmark and torn down afterwards: two network namespaces joined
 * by a veth pair (10.77.0.1/24 <-> 10.77.0.2/24), a tbf qdisc on both ends. No other interface,
 * no route out: traffic never leaves the pair. netem is not available here, so the link has a
 * rate limit and queue but no added delay.
 */
import { execFileSync } from 'node:child_process'

export const NS_SEED = 'mistbench-s'
export const NS_GET = 'mistbench-g'
export const SEED_IP = '10.77.0.1'
export const GET_IP = '10.77.0.2'
export const SHAPE = ['rate', '100mbit', 'burst', '32kbit', 'latency', '400ms']

function ip (...args: string[]): void { execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] }) }

export function netnsUp (): string {
  netnsDown()
  ip('netns', 'add', NS_SEED)
  ip('netns', 'add', NS_GET)
  ip('link', 'add', 'mistb-s', 'type', 'veth', 'peer', 'name', 'mistb-g')
  ip('link', 'set', 'mistb-s', 'netns', NS_SEED)
  ip('link', 'set', 'mistb-g', 'netns', NS_GET)
  ip('-n', NS_SEED, 'addr', 'add', `${SEED_IP}/24`, 'dev', 'mistb-s')
  ip('-n', NS_GET, 'addr', 'add', `${GET_IP}/24`, 'dev', 'mistb-g')
  for (const [ns, dev] of [[NS_SEED, 'mistb-s'], [NS_GET, 'mistb-g']]) {
    ip('-n', ns, 'link', 'set', 'lo', 'up')
    ip('-n', ns, 'link', 'set', dev, 'up')
    execFileSync('tc', ['-n', ns, 'qdisc', 'add', 'dev', dev, 'root', 'tbf', ...SHAPE], { stdio: ['ignore', 'ignore', 'pipe'] })
  }
  return `veth pair in namespaces ${NS_SEED}/${NS_GET}, tbf ${SHAPE.join(' ')} on both ends`
}

/** Idempotent: removes both namespaces (and with them the veth pair). */
export function netnsDown (): void {
  for (const ns of [NS_SEED, NS_GET]) { try { ip('netns', 'del', ns) } catch {} }
}

export function netnsAvailable (): boolean {
  try { execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' }); return process.getuid?.() === 0 } catch { return false }
}
