// Many small writes as few statements: each stream's frame log writes a batch every few hundred
// milliseconds, so an isolate with a thousand streams would otherwise send thousands of
// statements a second. Writes that arrive while one statement is in flight go together in the
// next one (group commit): with little traffic a write goes at once, alone; under load the
// statements grow instead of multiplying. One statement is in flight at a time.

export interface GroupCommitOptions<T> {
  /** Writes the items in one statement; rejects if none of them was written. */
  flush(items: T[]): Promise<void>
  /** Items per statement at most; the rest wait for the next. */
  maxItems: number
}

/** Returns `write(item)`, which settles with the statement that carried the item. */
export function groupCommit<T>(o: GroupCommitOptions<T>): (item: T) => Promise<void> {
  let queue: { item: T; resolve: () => void; reject: (err: unknown) => void }[] = []
  let running = false

  async function drain(): Promise<void> {
    running = true
    // Writes made in the same turn as the first go with it.
    await Promise.resolve()
    while (queue.length) {
      const taken = queue.slice(0, o.maxItems)
      queue = queue.slice(taken.length)
      try {
        await o.flush(taken.map((q) => q.item))
        for (const q of taken) q.resolve()
      } catch (err) {
        for (const q of taken) q.reject(err)
      }
    }
    running = false
  }

  return (item) => new Promise<void>((resolve, reject) => {
    queue.push({ item, resolve, reject })
    if (!running) void drain()
  })
}
