import { describe, expect, it } from 'vitest'
import { groupCommit } from './group-commit.ts'

/** A flush whose statements the test finishes one by one. */
function heldFlush() {
  const calls: { items: number[]; finish: (err?: Error) => void }[] = []
  const flush = (items: number[]) => new Promise<void>((resolve, reject) => {
    calls.push({ items, finish: (err) => err ? reject(err) : resolve() })
  })
  return { calls, flush }
}
const turn = () => new Promise((r) => setImmediate(r))

describe('groupCommit', () => {
  it('sends the writes of one turn together, and those made during a statement in the next one', async () => {
    const { calls, flush } = heldFlush()
    const write = groupCommit({ flush, maxItems: 100 })
    const first = [write(1), write(2), write(3)]
    await turn()
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3]])
    const second = [write(4), write(5)]
    await turn()
    expect(calls).toHaveLength(1) // one statement in flight at a time
    calls[0]!.finish()
    await Promise.all(first)
    await turn()
    expect(calls.map((c) => c.items)).toEqual([[1, 2, 3], [4, 5]])
    calls[1]!.finish()
    await Promise.all(second)
  })

  it('rejects every write of a failed statement, and goes on with the next', async () => {
    const { calls, flush } = heldFlush()
    const write = groupCommit({ flush, maxItems: 100 })
    const failed = [write(1), write(2)]
    await turn()
    const later = write(3)
    calls[0]!.finish(new Error('connection lost'))
    await expect(Promise.all(failed.map((p) => p.then(() => 'ok', (e: Error) => e.message)))).resolves.toEqual(['connection lost', 'connection lost'])
    await turn()
    expect(calls[1]!.items).toEqual([3])
    calls[1]!.finish()
    await expect(later).resolves.toBeUndefined()
  })

  it('puts at most maxItems in a statement, in order', async () => {
    const { calls, flush } = heldFlush()
    const write = groupCommit({ flush, maxItems: 2 })
    const all = [1, 2, 3, 4, 5].map((n) => write(n))
    for (let i = 0; i < 3; i++) { await turn(); calls[i]!.finish() }
    await Promise.all(all)
    expect(calls.map((c) => c.items)).toEqual([[1, 2], [3, 4], [5]])
  })

  it('starts again at once after going idle', async () => {
    const { calls, flush } = heldFlush()
    const write = groupCommit({ flush, maxItems: 10 })
    const a = write(1)
    await turn()
    calls[0]!.finish()
    await a
    await turn()
    const b = write(2)
    await turn()
    expect(calls.map((c) => c.items)).toEqual([[1], [2]])
    calls[1]!.finish()
    await b
  })
})
