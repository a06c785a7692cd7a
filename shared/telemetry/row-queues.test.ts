import { describe, expect, it } from 'vitest'
import { createRowQueues, writeQueues, type RowQueuesOptions } from './row-queues.ts'
import type { LogRow } from './rows.ts'
import type { Encoded, Item, Table } from './writer.ts'

const log = (message: string): LogRow => ({ time: new Date(0), level: 'info', trace_id: null, span_id: null, message, attributes: {} })
const plain: RowQueuesOptions['writer'] = { encodes: false, encode: (): Encoded => { throw new Error('not used') } }
const messages = (rows: Item[]) => rows.map((r) => (r as LogRow).message)

function queues(o: { maxQueue?: number; batchSize?: number; writer?: typeof plain } = {}) {
  const rejected: unknown[] = []
  const q = createRowQueues({ maxQueue: o.maxQueue ?? 100, batchSize: o.batchSize ?? 2, writer: o.writer ?? plain, onRejected: (e) => rejected.push(e) })
  return { q, rejected }
}

describe('row queues', () => {
  it('encodes rows when the writer does, leaving out only a row that cannot be encoded', () => {
    const writer = {
      encodes: true,
      encode: (_t: Table, r: Item): Encoded => {
        if ((r as LogRow).message === 'bad') throw new TypeError('cycle')
        return { line: (r as LogRow).message, rich: false, ms: 0 }
      },
    }
    const { q, rejected } = queues({ writer })
    q.push('logs', [log('a'), log('bad'), log('b')])
    expect(q.take('logs', 5).flat()).toEqual([{ line: 'a', rich: false, ms: 0 }, { line: 'b', rich: false, ms: 0 }])
    expect(rejected).toHaveLength(1)
  })

  it('counts taken batches until settled, and puts failed ones back at the front in order', () => {
    const { q } = queues({ batchSize: 2 })
    q.push('logs', ['a', 'b', 'c', 'd', 'e'].map(log))
    const taken = q.take('logs', 2)
    expect(taken.map(messages)).toEqual([['a', 'b'], ['c', 'd']])
    expect(q.size()).toBe(5)
    expect(q.waiting()).toBe(1)
    q.settle('logs', taken, [taken[1]])
    expect(q.size()).toBe(3)
    expect(messages(q.take('logs', 3).flat())).toEqual(['c', 'd', 'e'])
  })

  it('drops the oldest over the bound, spans before logs, rows in flight counted', () => {
    const { q } = queues({ maxQueue: 4, batchSize: 10 })
    q.push('logs', ['l1', 'l2'].map(log))
    q.push('spans', ['s1', 's2'].map(log))
    const taken = q.take('logs', 1) // 2 in flight
    q.push('spans', [log('s3')])
    const over = q.enforceBound()
    expect(over.count).toBe(1)
    expect(messages(over.spans)).toEqual(['s1'])
    q.settle('logs', taken, [])
    q.push('logs', ['l3', 'l4', 'l5'].map(log))
    const more = q.enforceBound()
    expect(more.count).toBe(1)
    expect(messages(more.spans)).toEqual(['s2'])
    expect(q.size()).toBe(4)
  })

  it('says when a whole batch waits', () => {
    const { q } = queues({ batchSize: 2 })
    q.push('logs', [log('a')])
    expect(q.full()).toBe(false)
    q.push('spans', ['a', 'b'].map(log))
    expect(q.full('logs')).toBe(false)
    expect(q.full('spans')).toBe(true)
    expect(q.full()).toBe(true)
  })
})

describe('writeQueues', () => {
  it('writes spans then logs, `concurrency` batches a round, and another round only while a whole batch is left', async () => {
    const { q } = queues({ batchSize: 2 })
    const rounds: string[][][] = []
    let inRound: string[][] = []
    const o = {
      concurrency: 2,
      insert: async (table: Table, rows: Item[]) => { inRound.push([table, ...messages(rows)]) },
      overdue: () => { throw new Error('nothing failed') },
      bound: () => { rounds.push(inRound); inRound = [] },
    }
    q.push('spans', ['s1', 's2', 's3', 's4', 's5', 's6', 's7'].map(log))
    q.push('logs', ['l1'].map(log))
    await writeQueues(q, o)
    expect(rounds).toEqual([
      [['spans', 's1', 's2'], ['spans', 's3', 's4']],
      [['spans', 's5', 's6'], ['spans', 's7']],
      [['logs', 'l1']],
    ])
    expect(q.size()).toBe(0)
    rounds.length = 0
    q.push('spans', ['s8', 's9', 's10', 's11', 's12'].map(log))
    await writeQueues(q, o)
    // What is left after the first round is less than a batch: it waits for the next drain.
    expect(rounds).toEqual([[['spans', 's8', 's9'], ['spans', 's10', 's11']]])
    expect(q.waiting()).toBe(1)
  })

  it('stops at a failed round: the failed batch is back in front and overdue, the error thrown after the round settled', async () => {
    const { q } = queues({ batchSize: 2 })
    q.push('spans', ['s1', 's2', 's3', 's4'].map(log))
    q.push('logs', [log('l1')])
    const down = new Error('database down')
    let overdue = 0
    const written: string[] = []
    await expect(writeQueues(q, {
      concurrency: 2,
      insert: async (_t, rows) => { if (messages(rows)[0] === 's1') throw down; written.push(...messages(rows)) },
      overdue: () => { overdue++ },
      bound: () => {},
    })).rejects.toBe(down)
    expect(written).toEqual(['s3', 's4'])
    expect(overdue).toBe(1)
    expect(q.size()).toBe(3)
    expect(messages(q.take('spans', 5).flat())).toEqual(['s1', 's2'])
  })
})
