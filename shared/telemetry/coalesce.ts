/**
 * Many streams ending together each ask for a flush (Supabase: waitUntil). One
 * runs at a time; every call made while it runs shares the single next run, which
 * starts when the current one ends and so covers everything those callers ended.
 */
export function createCoalescedFlush(run: () => Promise<void>): () => Promise<void> {
  let current: Promise<void> | undefined
  let next: Promise<void> | undefined

  const start = (): Promise<void> => {
    const p = run().finally(() => { if (current === p) current = undefined })
    current = p
    return p
  }

  return function flush() {
    if (!current) return start()
    next ??= current.catch(() => {}).then(() => { next = undefined; return start() })
    return next
  }
}
