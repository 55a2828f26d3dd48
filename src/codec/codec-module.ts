/**
 * One OpenJPH WASM instance plus the text it printed, so encode/decode can turn
 * OpenJPH's silent failures into CodecError messages that carry that text.
 */
import { instantiateOpenJPH, type OpenJPHModule } from './openjph.js'
import type { CompiledWasm } from './wasm-api.js'

/** An instantiated codec with its message log. Single-threaded: one call at a time. */
export class CodecModule {
  /** Set when the WASM instance aborted (trap, out of memory): it must not be used again. */
  dead = false
  private log: string[] = []

  private constructor (readonly wasm: OpenJPHModule) {}

  /** Instantiate a new module (optionally from an already compiled WebAssembly.Module). */
  static async create (compiled?: CompiledWasm): Promise<CodecModule> {
    let self: CodecModule | undefined
    const pending: string[] = []
    const wasm = await instantiateOpenJPH((text) => {
      if (self != null) self.log.push(text)
      else pending.push(text)
    }, compiled)
    self = new CodecModule(wasm)
    self.log.push(...pending)
    return self
  }

  /** Size of the WASM linear memory in bytes (it grows, never shrinks). */
  heapBytes (): number {
    return this.wasm.HEAP8.buffer.byteLength
  }

  /** Forget earlier messages: call before an operation. */
  clearLog (): void {
    this.log = []
  }

  /** Messages printed since the last clearLog(), joined for an error message. */
  logText (): string {
    return this.log.join('; ')
  }
}
