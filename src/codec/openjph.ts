/**
 * Typed access to the OpenJPH WebAssembly build (@cornerstonejs/codec-openjph).
 *
 * The package is an Emscripten CommonJS factory without TypeScript types; this
 * module declares the part of its embind API that mist-p2p uses and loads one
 * instance. Nothing else in src/codec touches the untyped package.
 */
import { createRequire } from 'node:module'
import { webAssembly, type CompiledWasm, type WasmInstance } from './wasm-api.js'

/** Frame description shared by the encoder and decoder bindings. */
export interface FrameInfo {
  width: number
  height: number
  bitsPerSample: number
  componentCount: number
  isSigned: boolean
  isUsingColorTransform: boolean
}

/** embind HTJ2KEncoder. Views returned by get*Buffer() point into the WASM heap. */
export interface WasmEncoder {
  getDecodedBuffer(frameInfo: FrameInfo): Uint8Array
  getEncodedBuffer(): Uint8Array
  encode(): void
  setQuality(lossless: boolean, quantizationStep: number): void
  setDecompositions(n: number): void
  /** 0 LRCP, 1 RLCP, 2 RPCL, 3 PCRL, 4 CPRL. */
  setProgressionOrder(order: number): void
  setTilePartDivisionsAtResolutions(on: boolean): void
  setTilePartDivisionsAtComponents(on: boolean): void
  setTLMMarker(on: boolean): void
  delete(): void
}

/** embind HTJ2KDecoder. It never throws: check getIsHeaderValid() and the frame size. */
export interface WasmDecoder {
  getEncodedBuffer(size: number): Uint8Array
  getDecodedBuffer(): Uint8Array
  readHeader(): void
  decode(): void
  /** d = number of finest levels discarded (0 = full size). */
  decodeSubResolution(d: number): void
  calculateSizeAtDecompositionLevel(d: number): { width: number, height: number }
  getFrameInfo(): FrameInfo
  getIsHeaderValid(): boolean
  getNumDecompositions(): number
  getIsReversible(): boolean
  getLastErrorMessage(): string
  delete(): void
}

/** The instantiated Emscripten module. */
export interface OpenJPHModule {
  HTJ2KEncoder: new () => WasmEncoder
  HTJ2KDecoder: new () => WasmDecoder
  /** Current view of the WASM linear memory (replaced when memory grows). */
  HEAP8: Int8Array
}

interface FactoryArgs {
  printErr?: (text: string) => void
  print?: (text: string) => void
  instantiateWasm?: (
    imports: object,
    receive: (instance: WasmInstance, module: CompiledWasm) => void
  ) => object
}

type Factory = (args: FactoryArgs) => Promise<OpenJPHModule>

const require = createRequire(import.meta.url)

/** Absolute path of the package's .wasm file. */
export function wasmPath (): string {
  return require.resolve('@cornerstonejs/codec-openjph/wasm')
}

/**
 * Instantiate a fresh OpenJPH module. Every line OpenJPH prints (errors go to
 * printErr, decoder warnings to print) is passed to `onMessage`.
 * With `compiled`, the already compiled WebAssembly.Module is reused, which
 * skips compilation (used when a worker recycles its module).
 */
export async function instantiateOpenJPH (
  onMessage: (text: string) => void,
  compiled?: CompiledWasm
): Promise<OpenJPHModule> {
  const factory = require('@cornerstonejs/codec-openjph') as Factory
  const args: FactoryArgs = { printErr: onMessage, print: onMessage }
  if (compiled != null) {
    args.instantiateWasm = (imports, receive) => {
      webAssembly.instantiate(compiled, imports).then(
        (instance) => { receive(instance, compiled) },
        (err: unknown) => { onMessage(`WASM instantiation failed: ${String(err)}`) }
      )
      return {}
    }
  }
  return await factory(args)
}
