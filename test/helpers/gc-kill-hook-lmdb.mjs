// Loaded with `node --import` into a `mist-p2p gc` child of an LMDB repo: the sweep takes one
// block per transaction, and the process is SIGKILLed right after its Nth removal committed, with
// the rest of the sweep undone (MIST_TEST_GC_KILL_AT=N). Patches the module the CLI itself loads.
import { LmdbBlockstore } from '../../dist/src/repo/lmdb-blockstore.js'

const at = Number(process.env.MIST_TEST_GC_KILL_AT)
let count = 0
const keyPages = LmdbBlockstore.prototype.keyPages
LmdbBlockstore.prototype.keyPages = function () { return keyPages.call(this, 1) }
const removeUnused = LmdbBlockstore.prototype.removeUnused
LmdbBlockstore.prototype.removeUnused = async function (keys, cutoffMs) {
  const out = await removeUnused.call(this, keys, cutoffMs)
  count += out.removed
  if (out.removed > 0 && count >= at) process.kill(process.pid, 'SIGKILL')
  return out
}
