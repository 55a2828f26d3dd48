import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { MistError, UsageError } from '../errors.js'
import { parseLevel } from '../level/index.js'

function positiveInt (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a positive integer')
  return n
}

function positiveNumber (value: string): number {
  const n = Number(value)
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('expected a positive number')
  return n
}

function level (value: string): number | 'full' {
  try {
    return parseLevel(value)
  } catch (err: any) {
    throw new InvalidArgumentError(err.message)
  }
}

const collect = (value: string, previous: string[] = []): string[] => [...previous, value]

const repoOption = (): Option => new Option('--repo <dir>', 'repo directory (default: $MIST_P2P_REPO or ~/.mist-p2p)')
const jsonOption = (): Option => new Option('--json', 'print one JSON document on stdout')
const peerOption = (): Option => new Option('--peer <multiaddr>', 'fetch from this peer (/ip4/…/tcp/…/p2p/<id>); repeatable; adds to the repo config\'s peers').argParser(collect)
const timeoutOption = (): Option => new Option('--timeout <seconds>', 'how long one block may take to arrive from peers (default 30)').argParser(positiveNumber)
const levelOption = (): Option => new Option('--level <k>', 'level index, 0 = coarsest, or "full" (default: full)').argParser(level)
const includeOption = (): Option => new Option('--include <glob>', 'only dataset entries whose name matches this glob (* within a folder, ** across); repeatable').argParser(collect)
const excludeOption = (): Option => new Option('--exclude <glob>', 'leave out dataset entries whose name matches this glob; repeatable').argParser(collect)
const sizeOption = (): Option => new Option('--size <px>', 'the coarsest level whose longer side is at least PX pixels').argParser(positiveInt)

export const OUTPUT_FORMAT_CHOICES = ['png', 'nii', 'j2c', 'dcm', 'npy']

/**
 * Runs the CLI; returns the process exit code (0 ok, 1 failure, 2 usage). Each command's module is
 * imported when it runs, so `--help` or an offline `get` does not load libp2p (about 1 s).
 */
export async function main (argv: string[]): Promise<number> {
  let exitCode = 0
  const program = new Command()
    .name('mist-p2p')
    .description('Share medical images peer to peer: one lossless HTJ2K copy, fetch only the resolution you need.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')

  program.command('init')
    .description('create a repo with its peer identity and a private-network swarm key (or import the consortium\'s)')
    .option('--swarm-key <file>', 'use this swarm.key (Kubo format) instead of generating one')
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (opts) => { exitCode = await (await import('./commands/init.js')).initCommand(opts) })

  program.command('key')
    .description('manage the private-network swarm key')
    .command('import')
    .description('join a consortium: store its swarm.key in the repo (mode 0600)')
    .argument('<file>', 'swarm.key file')
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (file: string, opts) => { exitCode = await (await import('./commands/init.js')).keyImportCommand(file, opts) })

  program.command('publish')
    .description('encode files or directories (PNG, NIfTI, DICOM) into level blocks in the repo and pin the root')
    .argument('<path...>', 'files or directories (recursively)')
    .addOption(repoOption()).addOption(jsonOption())
    .option('--decompositions <n>', 'wavelet decompositions, 1..32 (default: coarsest level at most 64 px)', (v: string) => { const n = Number(v); if (!/^\d+$/.test(v) || n < 1 || n > 32) throw new InvalidArgumentError('1..32'); return n })
    .option('--quantize', 'map data that does not fit 16 bits losslessly (real-valued floats) linearly onto 16 bits; the largest error is measured, stored and printed')
    .option('--keep-text', 'also publish NIfTI free-text fields (descrip, aux_file, intent_name)')
    .option('--follow-symlinks', 'follow every symbolic link in a published directory (default: only links to files inside the published paths, e.g. git-annex/DataLad content; never into the repo)')
    .action(async (paths: string[], opts) => { exitCode = await (await import('./commands/publish.js')).publishCommand(paths, opts) })

  program.command('get')
    .description('fetch one resolution level of an image, volume or dataset and write image files')
    .argument('<cid>', 'root CID printed by publish, or <root>/<path> for one entry or sub-directory of a dataset, or a name <peer-id|alias>/<name>[/<path>]')
    .addOption(levelOption()).addOption(sizeOption()).addOption(includeOption()).addOption(excludeOption())
    .option('-o, --output <path>', 'output file (dataset or sub-directory: directory, with manifest.jsonl)')
    .addOption(new Option('--format <fmt>', 'output format (default: png for 2D, nii for volumes and signed images)').choices(OUTPUT_FORMAT_CHOICES))
    .option('--apply-rescale', 'write real-world values (rescale slope/intercept applied) instead of stored values')
    .option('--force', 'replace existing output files that hold other content (identical files are always kept)')
    .addOption(peerOption()).addOption(timeoutOption())
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (cid: string, opts) => { exitCode = await (await import('./commands/get.js')).getCommand(cid, opts) })

  program.command('info')
    .description('show what a root holds: dimensions, levels and the bytes each level costs')
    .argument('<cid>', 'root CID, or <root>/<path> for one dataset entry, or a name <peer-id|alias>/<name>[/<path>]')
    .addOption(peerOption()).addOption(timeoutOption())
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (cid: string, opts) => { exitCode = await (await import('./commands/info.js')).infoCommand(cid, opts) })

  program.command('verify')
    .description('check that every block of a root (up to a level) is present and intact and that every level decodes to its stated size')
    .argument('<cid>', 'root CID, or <root>/<path> for one entry or sub-directory of a dataset, or a name <peer-id|alias>/<name>[/<path>]')
    .addOption(levelOption()).addOption(sizeOption()).addOption(includeOption()).addOption(excludeOption())
    .option('--drop-corrupt', 'remove from the repo each block whose bytes do not hash to its CID, so `mirror` or `get` fetches it again (not beside a running serve)')
    .addOption(peerOption()).addOption(timeoutOption())
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (cid: string, opts) => { exitCode = await (await import('./commands/verify.js')).verifyCommand(cid, opts) })

  program.command('serve')
    .description('run a node that serves the repo to the private network, until SIGINT/SIGTERM')
    .addOption(new Option('--listen <multiaddr>', 'listen address, repeatable (default /ip4/127.0.0.1/tcp/4011; use /ip4/0.0.0.0/tcp/4011 to accept other sites)').argParser(collect))
    .addOption(new Option('--peer <multiaddr>', 'peer to dial and keep connected, repeatable').argParser(collect))
    .addOption(new Option('--allow-peer <peerId>', 'accept only these peers, repeatable (an allow-list on top of the swarm key)').argParser(collect))
    .option('--mdns', 'discover peers on the local network (LAN mirrors)')
    .addOption(new Option('--http <addr>', 'also serve the read-only HTTP gateway (/ipfs/ trustless, /mist/) and the viewer on PORT or HOST:PORT (a bare port binds 127.0.0.1; another address prints a warning)'))
    .addOption(new Option('--http-cors <origin>', 'let pages from this origin read the HTTP gateway (CORS), repeatable; "*" for any (default: none)').argParser(collect))
    .addOption(new Option('--http-timeout <seconds>', 'how long an HTTP request may wait for blocks from peers before it ends in 504 (default 30)').argParser(positiveNumber))
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (opts) => { exitCode = await (await import('./commands/serve.js')).serveCommand(opts) })

  program.command('open')
    .description('print the viewer URL of a root or a named dataset on the HTTP gateway of the `serve --http` running on the repo')
    .argument('<cid>', 'root CID or <peer-id|alias>/<name>, with /<path> for one dataset entry')
    .option('--browser', 'also open the URL in the default browser')
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (cid: string, opts) => { exitCode = await (await import('./commands/open.js')).openCommand(cid, opts) })

  program.command('mirror')
    .description('fetch and keep a root fully or up to a level, to seed it')
    .argument('<cid>', 'root CID, or <root>/<path> for one entry or sub-directory of a dataset, or a name <peer-id|alias>/<name>[/<path>]')
    .addOption(levelOption()).addOption(sizeOption()).addOption(includeOption()).addOption(excludeOption())
    .addOption(peerOption()).addOption(timeoutOption())
    .addOption(repoOption()).addOption(jsonOption())
    .option('--follow', 'the argument is a name <peer-id|alias>/<name>: keep its newest version mirrored, polling the members')
    .option('--once', 'with --follow: one round, then exit (for cron)')
    .option('--interval <duration>', 'with --follow: time between rounds, e.g. 30s, 5m (default 60s)')
    .addOption(new Option('--keep <n>', 'with --follow: versions kept (default 1); older ones are freed by gc').argParser(positiveInt))
    .action(async (cid: string, opts) => { exitCode = await (await import('./commands/mirror.js')).mirrorCommand(cid, opts) })

  program.command('diff')
    .description('what changed between two versions of a dataset: entries added, removed, changed, and the bytes a mirror of each level fetches to follow')
    .argument('<old>', 'root CID of the old version')
    .argument('<new>', 'root CID of the new version')
    .addOption(peerOption()).addOption(timeoutOption())
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (a: string, b: string, opts) => { exitCode = await (await import('./commands/diff.js')).diffCommand(a, b, opts) })

  const name = program.command('name').description('signed, versioned names for datasets: <peer-id>/<name> (IPNS records)')
  name.command('publish')
    .description('point <this node\'s peer id>/<name> at a root the repo holds (next sequence number, signed by the node key)')
    .argument('<cid>', 'root CID')
    .argument('<name>', 'dataset name: 1-64 letters, digits, ".", "_" or "-"')
    .option('--lifetime <duration>', 'how long the record is valid, e.g. 24h, 7d (default 7d); publish again before it ends')
    .option('--description <text>', 'a short description shown to members (at most 1024 characters)')
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (cid: string, n: string, opts) => { exitCode = await (await import('./commands/name.js')).namePublishCommand(cid, n, opts) })
  name.command('resolve')
    .description('the newest valid record of <peer-id>/<name> (or <alias>/<name>) from this repo and the connected members')
    .argument('<name>', '<peer-id>/<name> or <alias>/<name>')
    .addOption(peerOption()).addOption(timeoutOption())
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (n: string, opts) => { exitCode = await (await import('./commands/name.js')).nameResolveCommand(n, opts) })

  program.command('catalog')
    .description('list the named datasets this node and the connected members offer: root, sequence, description, bytes per level, who holds which levels')
    .addOption(peerOption()).addOption(timeoutOption())
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (opts) => { exitCode = await (await import('./commands/catalog.js')).catalogCommand(opts) })

  program.command('ls')
    .description('list what the repo keeps: pinned roots and mirror records, the levels held and their bytes')
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (opts) => { exitCode = await (await import('./commands/ls.js')).lsCommand(opts) })

  program.command('unpin')
    .description('stop keeping a root: remove its pin and mirror record (its blocks are freed by the next gc)')
    .argument('<cid>', 'root CID, or <peer-id|alias>/<name> (the root it resolves to now)')
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (cid: string, opts) => { exitCode = await (await import('./commands/unpin.js')).unpinCommand(cid, opts) })

  program.command('gc')
    .description('remove the blocks no pin or mirror record keeps (safe beside a running serve and its writers)')
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (opts) => { exitCode = await (await import('./commands/gc.js')).gcCommand(opts) })

  program.command('export')
    .description('write exactly the blocks of a level to a CAR file (offline transfer, other IPFS tools)')
    .argument('<cid>', 'root CID')
    .addOption(levelOption()).addOption(sizeOption())
    .requiredOption('-o, --output <file>', 'CAR file to write')
    .addOption(peerOption()).addOption(timeoutOption())
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (cid: string, opts) => { exitCode = await (await import('./commands/car.js')).exportCommand(cid, opts) })

  program.command('import')
    .description('load and verify the blocks of a CAR file into the repo')
    .argument('<file>', 'CAR file')
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (file: string, opts) => { exitCode = await (await import('./commands/car.js')).importCommand(file, opts) })

  program.command('pin-plan')
    .description('print what an IPFS fleet (Kubo, IPFS Cluster) must pin to hold levels 0..K: level files recursively, roots and index blocks directly')
    .argument('<cid>', 'root CID')
    .addOption(levelOption()).addOption(sizeOption())
    .addOption(new Option('--only <mode>', 'print only the CIDs to pin this way, one per line (for `ipfs pin add`)').choices(['recursive', 'direct']))
    .addOption(peerOption()).addOption(timeoutOption())
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (cid: string, opts) => { exitCode = await (await import('./commands/pin-plan.js')).pinPlanCommand(cid, opts) })

  program.command('demo')
    .description('generate the built-in example data, publish it into a scratch repo and fetch each level')
    .option('--keep <dir>', 'keep the scratch directory here instead of a temporary one')
    .addOption(jsonOption())
    .action(async (opts) => { exitCode = await (await import('./commands/demo.js')).demoCommand(opts) })

  try {
    await program.parseAsync(argv, { from: 'user' })
    return exitCode
  } catch (err: any) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2
    }
    if (err instanceof UsageError) {
      process.stderr.write(`mist-p2p: ${err.message}\n`)
      return 2
    }
    const name = err instanceof MistError ? err.name : (err?.name ?? 'Error')
    process.stderr.write(`mist-p2p: ${name}: ${err?.message ?? err}\n`)
    if (!(err instanceof MistError) && process.env.MIST_P2P_DEBUG != null) process.stderr.write(`${err?.stack}\n`)
    return 1
  }
}
