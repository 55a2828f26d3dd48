/**
 * Results of `fn` over `items`, in order, with up to `depth` calls started ahead of the one
 * being taken: reading many small files one after another waits on the file system's round
 * trips (open, stat, read, close) with the thread idle; a few in flight hide that wait.
 * A call that fails is thrown when its turn comes; results past an early stop are dropped.
 */
export async function * readAhead<T, R> (items: readonly T[], fn: (item: T, index: number) => Promise<R>, depth: number): AsyncGenerator<R> {
  const ahead = Math.max(1, Math.floor(depth))
  const started: Array<Promise<R>> = []
  let next = 0
  const start = (): void => {
    const i = next++
    const p = fn(items[i], i)
    p.catch(() => {}) // thrown when taken; not an unhandled rejection if never taken
    started.push(p)
  }
  while (next < items.length && started.length < ahead) start()
  while (started.length > 0) {
    const got = await (started.shift() as Promise<R>)
    if (next < items.length) start()
    yield got
  }
}
