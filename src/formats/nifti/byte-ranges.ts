/**
 * Byte ranges of a file's content read on demand, so that a reader can hand out one
 * slice at a time instead of holding the whole file: from memory, from a file by position,
 * or from a gzip file inflated in one forward pass (restarted only when an earlier range is asked for).
 */
import { createReadStream, type ReadStream } from 'node:fs'
import { open, type FileHandle } from 'node:fs/promises'
import { createGunzip, type Gunzip } from 'node:zlib'
import { InvalidInputError } from '../../errors.js'

export interface ByteRanges {
  /** `length` bytes at `offset`, in a buffer of their own; InvalidInputError when the content ends sooner. */
  read: (offset: number, length: number) => Promise<Uint8Array>
  /** Releases the file; a later read opens it again. */
  close: () => Promise<void>
}

function truncated (label: string, offset: number, length: number, got: number): InvalidInputError {
  return new InvalidInputError(`${label}: truncated: ${length} bytes at offset ${offset} were expected but the file ends after ${got} (was it changed while being read?)`)
}

/** Ranges of bytes already in memory. */
export function memoryRanges (label: string, bytes: Uint8Array): ByteRanges {
  return {
    read: async (offset, length) => {
      if (offset + length > bytes.length) throw truncated(label, offset, length, Math.max(0, bytes.length - offset))
      return bytes.slice(offset, offset + length)
    },
    close: async () => {}
  }
}

/** Ranges of a file, read by position. */
export function fileRanges (path: string): ByteRanges {
  let handle: Promise<FileHandle> | undefined
  return {
    read: async (offset, length) => {
      handle ??= open(path, 'r')
      const out = new Uint8Array(length)
      let got = 0
      while (got < length) {
        const { bytesRead } = await (await handle).read(out, got, length - got, offset + got)
        if (bytesRead === 0) throw truncated(path, offset, length, got)
        got += bytesRead
      }
      return out
    },
    close: async () => {
      const h = handle
      handle = undefined
      await (await h?.catch(() => undefined))?.close()
    }
  }
}

/**
 * Ranges of the decompressed content of a gzip file. Reads at increasing offsets cost one
 * inflate of the file in all; a read before the current position starts over. Reads are
 * served one at a time, in the order they are asked.
 */
export function gzipRanges (path: string): ByteRanges {
  let file: ReadStream | undefined
  let gz: Gunzip | undefined
  let chunks: AsyncIterator<Buffer> | undefined
  /** Decompressed offset of `rest[0]`, or of the next chunk when rest is empty. */
  let position = 0
  let rest: Buffer = Buffer.alloc(0)
  let queue: Promise<unknown> = Promise.resolve()

  const stop = (): void => {
    file?.destroy()
    gz?.destroy()
    file = gz = chunks = undefined
    position = 0
    rest = Buffer.alloc(0)
  }
  const start = (): void => {
    stop()
    const f = createReadStream(path)
    const z = createGunzip()
    f.on('error', err => z.destroy(err))
    f.pipe(z)
    file = f
    gz = z
    chunks = (z as AsyncIterable<Buffer>)[Symbol.asyncIterator]()
  }
  const readNow = async (offset: number, length: number): Promise<Uint8Array> => {
    if (chunks == null || offset < position) start()
    const out = new Uint8Array(length)
    let got = 0
    while (got < length) {
      if (rest.length === 0) {
        let next: IteratorResult<Buffer>
        try {
          next = await chunks!.next()
        } catch (err: any) {
          stop()
          throw new InvalidInputError(`${path}: corrupt gzip stream at ${offset + got} bytes: ${err?.message ?? err}`, { cause: err })
        }
        if (next.done === true) { stop(); throw truncated(path, offset, length, got) }
        rest = next.value
      }
      const from = Math.max(0, offset + got - position)
      if (from >= rest.length) { position += rest.length; rest = Buffer.alloc(0); continue }
      const take = Math.min(rest.length - from, length - got)
      out.set(rest.subarray(from, from + take), got)
      got += take
      position += from + take
      rest = rest.subarray(from + take)
    }
    return out
  }
  return {
    read: async (offset, length) => {
      const result = queue.then(async () => readNow(offset, length))
      queue = result.catch(() => {})
      return await result
    },
    close: async () => {
      const done = queue.then(stop)
      queue = done
      await done
    }
  }
}
