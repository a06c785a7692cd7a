import { describe, expect, it } from 'vitest'
import { createBatchInsert, isMissingTable, isRowError } from './batch-insert.ts'
import { createOpenRegistry } from './open-registry.ts'
import type { Encoded, Item, Table } from './writer.ts'

const row = (line: string, key?: string): Encoded => ({ line, rich: false, ms: 0, ...(key ? { key } : {}) })
const pgError = (code: string) => Object.assign(new Error(`error ${code}`), { code })

/** A writer that refuses any batch holding a `bad` row (as Postgres refuses the whole statement). */
function harness(fail: (rows: Item[]) => unknown = (rows) => rows.some((r) => (r as Encoded).line === 'bad') ? pgError('22P02') : undefined) {
  const writes: { table: Table; lines: string[]; supersede: string[] }[] = []
  const errors: unknown[] = []
  const stats = { written: 0, batches: 0, rejected: 0 }
  const open = createOpenRegistry((e) => errors.push(e))
  let noTable = 0
  const insert = createBatchInsert({
    writer: {
      async write(table, rows, supersede = []) {
        const err = fail(rows)
        if (err) throw err
        writes.push({ table, lines: rows.map((r) => (r as Encoded).line), supersede })
      },
    },
    open, stats, onError: (e) => errors.push(e), onNoOpenTable: () => { noTable++; open.clear() },
  })
  return { insert, writes, errors, stats, open, noTable: () => noTable }
}

describe('batch insert', () => {
  it('isolates a refused row by halving the batch, writes the rest, and counts it once', async () => {
    const h = harness()
    await h.insert('logs', ['a', 'b', 'bad', 'c', 'd'].map((l) => row(l)))
    expect(h.writes.map((w) => w.lines)).toEqual([['a', 'b'], ['c', 'd']])
    expect(h.stats).toEqual({ written: 4, batches: 2, rejected: 1 })
    expect(h.errors).toHaveLength(1)
  })

  it('throws what is not about a row, for the caller to retry', async () => {
    const down = pgError('57P01')
    const h = harness(() => down)
    await expect(h.insert('spans', [row('a')])).rejects.toBe(down)
    expect(h.stats).toEqual({ written: 0, batches: 0, rejected: 0 })
  })

  it('deletes the open rows its request spans supersede, and forgets them once written', async () => {
    const h = harness()
    h.open.opened('t/1', () => ({}) as never)
    h.open.take()
    await h.insert('spans', [row('a', 't/1'), row('b', 't/2'), row('c')])
    expect(h.writes).toEqual([{ table: 'spans', lines: ['a', 'b', 'c'], supersede: ['t/1'] }])
    expect(h.open.has('t/1')).toBe(false)
  })

  it('without open_requests in the database, stops superseding and writes the batch again', async () => {
    let first = true
    const h = harness(() => { if (first) { first = false; return pgError('42P01') } })
    h.open.opened('t/1', () => ({}) as never)
    h.open.take()
    await h.insert('spans', [row('a', 't/1')])
    expect(h.noTable()).toBe(1)
    expect(h.writes).toEqual([{ table: 'spans', lines: ['a'], supersede: [] }])
  })

  it('tells row errors from the database failing', () => {
    expect(isRowError(pgError('22021'))).toBe(true)
    expect(isRowError(pgError('23502'))).toBe(true)
    expect(isRowError(new RangeError('x'))).toBe(true)
    expect(isRowError(pgError('23505'))).toBe(false)
    expect(isRowError(pgError('08006'))).toBe(false)
    expect(isMissingTable(pgError('42P01'))).toBe(true)
  })
})
