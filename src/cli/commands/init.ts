import { access, readFile } from 'node:fs/promises'
import { generateSwarmKey, loadOrCreateIdentity, peerIdOf, swarmKeyPath, writeSwarmKey } from '../../node/index.js'
import { Repo } from '../../repo/index.js'
import { printJson, type CommonOptions } from '../common.js'

/**
 * `mist-p2p init [--swarm-key FILE]`: creates the repo, its persistent identity and the
 * private-network key (a new one, or the consortium's). The key itself is never printed.
 */
export async function initCommand (options: CommonOptions & { swarmKey?: string }): Promise<number> {
  const repo = await Repo.open({ path: options.repo, create: true, command: 'init' })
  try {
    const identity = await loadOrCreateIdentity(repo.path)
    const keyFile = swarmKeyPath(repo.path)
    const hadKey = await access(keyFile).then(() => true, () => false)
    let keyAction: 'imported' | 'generated' | 'kept'
    if (options.swarmKey != null) {
      await writeSwarmKey(repo.path, await readFile(options.swarmKey))
      keyAction = 'imported'
    } else if (!hadKey) {
      await writeSwarmKey(repo.path, generateSwarmKey())
      keyAction = 'generated'
    } else {
      keyAction = 'kept'
    }
    const info = { repo: repo.path, peerId: peerIdOf(identity), swarmKey: keyFile, swarmKeyAction: keyAction }
    if (options.json === true) printJson(info)
    else {
      process.stdout.write(`repo ${repo.path}\npeer ID ${info.peerId}\nswarm key ${keyFile} (${keyAction}, mode 0600)\n`)
      if (keyAction === 'generated') process.stdout.write('Give this swarm.key to each consortium member over a secure channel; they run `mist-p2p key import swarm.key`.\n')
    }
    return 0
  } finally {
    await repo.close()
  }
}

/** `mist-p2p key import FILE`: joins a consortium's private network. */
export async function keyImportCommand (file: string, options: CommonOptions): Promise<number> {
  const repo = await Repo.open({ path: options.repo, create: true, command: 'key import' })
  try {
    await writeSwarmKey(repo.path, await readFile(file))
    const info = { repo: repo.path, swarmKey: swarmKeyPath(repo.path) }
    if (options.json === true) printJson(info)
    else process.stdout.write(`swarm key imported into ${info.swarmKey} (mode 0600)\n`)
    return 0
  } finally {
    await repo.close()
  }
}
