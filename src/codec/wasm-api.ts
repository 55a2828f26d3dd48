/**
 * The few WebAssembly globals src/codec uses, typed here because the project's
 * tsconfig has no "dom" lib (where TypeScript declares WebAssembly).
 */

/** A compiled WebAssembly.Module (opaque; it can be posted to worker threads). */
export interface CompiledWasm { readonly __compiledWasm?: never }

/** An instantiated WebAssembly.Instance (opaque). */
export interface WasmInstance { readonly exports: object }

interface WebAssemblyApi {
  Module: new (bytes: Uint8Array) => CompiledWasm
  instantiate: (module: CompiledWasm, imports: object) => Promise<WasmInstance>
}

/** globalThis.WebAssembly with the types above. */
export const webAssembly = (globalThis as unknown as { WebAssembly: WebAssemblyApi }).WebAssembly
