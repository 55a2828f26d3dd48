// Loaded with `node --import` into a `mist-p2p gc` child: SIGKILLs the process right after its
// Nth block set-aside (a rename to `.<file>.gc`) completed, before that block is unlinked or put
// back: the worst moment for a crash (MIST_TEST_GC_KILL_AT=N). The patched function is the one
// src/gc/sweep.ts imports from node:fs/promises (syncBuiltinESMExports updates the ESM binding).
import { syncBuiltinESMExports } from 'node:module'
import fsp from 'node:fs/promises'

const at = Number(process.env.MIST_TEST_GC_KILL_AT)
let count = 0
const rename = fsp.rename
fsp.rename = async function (from, to) {
  await rename.call(this, from, to)
  if (String(to).endsWith('.data.gc') && ++count === at) process.kill(process.pid, 'SIGKILL')
}
syncBuiltinESMExports()
