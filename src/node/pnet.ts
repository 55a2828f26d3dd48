/**
 * @libp2p/pnet's preSharedKey(), with a fix for its cipher under bulk traffic.
 *
 * @libp2p/pnet 3.0.27 XORs with `xsalsa20` 1.2.0, a WASM module whose one shared memory starts at
 * 640 KiB and may grow to 1000 pages (~64 MiB). Every cipher instance caches a view of that memory;
 * when one instance grows it (an input larger than the free memory, e.g. a 2 MiB bitswap message
 * written in one piece), the other instances' views are detached (length 0), so on their next call
 * they "grow" again by their whole input, and so on: within a few dozen MiB of transfer the memory
 * hits its maximum and the connection dies with "RangeError: WebAssembly.Memory.grow(): Maximum
 * memory size exceeded" (measured here: 64 MiB transfers failed every time).
 *
 * The wrapper below feeds the cipher in 64 KiB pieces (so the memory never needs to grow), and if
 * the memory was grown anyway it re-attaches stale views instead of growing again. The cipher, the
 * protocol and the bytes on the wire are unchanged (Kubo-compatible).
 */
import { preSharedKey } from '@libp2p/pnet'
import type { ProtectorInit } from '@libp2p/pnet'
import type { ConnectionProtector } from '@libp2p/interface'

const PIECE = 64 * 1024

interface XorLike { update: (input: Uint8Array, output?: Uint8Array) => Uint8Array, _xor?: { _memory?: Uint8Array } }

let latestView: Uint8Array | undefined

function chunked (xor: XorLike): XorLike {
  const update = xor.update.bind(xor)
  const call = (input: Uint8Array, output: Uint8Array): void => {
    const inner = xor._xor
    if (inner?._memory != null) {
      if (inner._memory.length === 0 && latestView != null && latestView.length > 0) inner._memory = latestView
    }
    update(input, output)
    if (inner?._memory != null && inner._memory.length > 0) latestView = inner._memory
  }
  return {
    update (input: Uint8Array, output?: Uint8Array): Uint8Array {
      output ??= new Uint8Array(input.byteLength)
      for (let i = 0; i < input.byteLength; i += PIECE) {
        const end = Math.min(i + PIECE, input.byteLength)
        call(input.subarray(i, end), output.subarray(i, end))
      }
      return output
    }
  }
}

/** preSharedKey({ psk }) whose connections use the chunked cipher. */
export function mistPreSharedKey (init: ProtectorInit): (components: any) => ConnectionProtector {
  const factory = preSharedKey(init)
  return (components: any) => {
    const inner = (factory as (c?: unknown) => ConnectionProtector)(components)
    return {
      [Symbol.toStringTag]: '@mist-p2p/pnet',
      async protect (connection, options) {
        const box: any = await inner.protect(connection, options)
        for (const k of ['inboundXor', 'outboundXor']) {
          if (typeof box?.[k]?.update === 'function') box[k] = chunked(box[k])
        }
        return box
      }
    } as ConnectionProtector
  }
}
