import { Command, CommanderError, InvalidArgumentError, Option } from 'commander'
import { MistError } from '../errors.js'
import { parseLevel, OUTPUT_FORMATS } from '../retrieve/index.js'
import { demoCommand } from './commands/demo.js'
import { getCommand } from './commands/get.js'
import { infoCommand } from './commands/info.js'
import { publishCommand } from './commands/publish.js'

function positiveInt (value: string): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < 1) throw new InvalidArgumentError('expected a positive integer')
  return n
}

function level (value: string): number | 'full' {
  try {
    return parseLevel(value)
  } catch (err: any) {
    throw new InvalidArgumentError(err.message)
  }
}

const repoOption = (): Option => new Option('--repo <dir>', 'repo directory (default: $MIST_P2P_REPO or ~/.mist-p2p)')
const jsonOption = (): Option => new Option('--json', 'print one JSON document on stdout')

/** Runs the CLI; returns the process exit code (0 ok, 1 failure, 2 usage). */
export async function main (argv: string[]): Promise<number> {
  let exitCode = 0
  const program = new Command()
    .name('mist-p2p')
    .description('Share medical images peer to peer: one lossless HTJ2K copy, fetch only the resolution you need.')
    .version('0.1.0')
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')

  program.command('publish')
    .description('encode files or directories (PNG, NIfTI, DICOM) into level blocks in the repo and pin the root')
    .argument('<path...>', 'files or directories (recursively)')
    .addOption(repoOption()).addOption(jsonOption())
    .option('--decompositions <n>', 'wavelet decompositions (default: coarsest level at most 64 px)', (v: string) => { const n = Number(v); if (!/^\d+$/.test(v) || n > 32) throw new InvalidArgumentError('0..32'); return n })
    .action(async (paths: string[], opts) => { exitCode = await publishCommand(paths, opts) })

  program.command('get')
    .description('fetch one resolution level of an image, volume or dataset and write image files')
    .argument('<cid>', 'root CID printed by publish')
    .option('--level <k>', 'level index, 0 = coarsest, or "full" (default: full)', level)
    .option('--size <px>', 'the coarsest level whose longer side is at least PX pixels', positiveInt)
    .option('-o, --output <path>', 'output file (dataset: directory)')
    .addOption(new Option('--format <fmt>', 'output format (default: png for 2D, nii for volumes and signed images)').choices(OUTPUT_FORMATS))
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (cid: string, opts) => { exitCode = await getCommand(cid, opts) })

  program.command('info')
    .description('show what a root holds: dimensions, levels and the bytes each level costs')
    .argument('<cid>', 'root CID')
    .addOption(repoOption()).addOption(jsonOption())
    .action(async (cid: string, opts) => { exitCode = await infoCommand(cid, opts) })

  program.command('demo')
    .description('generate the built-in example data, publish it into a scratch repo and fetch each level')
    .option('--keep <dir>', 'keep the scratch directory here instead of a temporary one')
    .addOption(jsonOption())
    .action(async (opts) => { exitCode = await demoCommand(opts) })

  try {
    await program.parseAsync(argv, { from: 'user' })
    return exitCode
  } catch (err: any) {
    if (err instanceof CommanderError) {
      return err.exitCode === 0 ? 0 : 2
    }
    if (err?.name === 'UsageError') {
      process.stderr.write(`mist-p2p: ${err.message}\n`)
      return 2
    }
    const name = err instanceof MistError ? err.name : (err?.name ?? 'Error')
    process.stderr.write(`mist-p2p: ${name}: ${err?.message ?? err}\n`)
    if (!(err instanceof MistError) && process.env.MIST_P2P_DEBUG != null) process.stderr.write(`${err?.stack}\n`)
    return 1
  }
}
