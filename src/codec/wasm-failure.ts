/**
 * Turn what the WASM build throws into a CodecError.
 */
import { CodecError, MistError } from '../errors.js'
import type { CodecModule } from './codec-module.js'

/**
 * OpenJPH throws a bare number (a C++ exception pointer) and prints the reason
 * through printErr; a WebAssembly trap or abort leaves the module unusable.
 * Returns a CodecError carrying the printed text; marks the module dead on
 * anything other than a C++ exception or one of our own errors.
 */
export function wasmFailure (codec: CodecModule, err: unknown, doing: string): Error {
  if (err instanceof MistError) return err
  const text = codec.logText()
  if (typeof err === 'number') {
    return new CodecError(`OpenJPH failed ${doing}: ${text !== '' ? text : `C++ exception ${err} with no message`}`)
  }
  codec.dead = true
  const detail = err instanceof Error ? err.message : String(err)
  return new CodecError(`OpenJPH aborted ${doing}: ${detail}${text !== '' ? ` (${text})` : ''}`, { cause: err })
}
