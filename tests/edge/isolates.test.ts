// The isolate pool's lifecycle on a fake clock, with stand-in processes: the order the platform's
// supervisor follows (retire at half the wall clock, early drop when idle, beforeunload before the
// end, exit at the end), kills, replacements, random picking. The real Deno isolates are in
// stack.test.ts and lifecycle.test.ts.
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createIsolatePool, type IsolatePool, type IsolateProcess, type PoolOptions, type ProcessExit } from '../../tools/edge/isolates.ts'

interface FakeProcess extends IsolateProcess {
  id: string
  sent: string[]
  ended: boolean
  exit(e: ProcessExit): void
}

function fakeLauncher() {
  const launched: FakeProcess[] = []
  let pid = 1000
  let failNext = 0
  const launch: PoolOptions['launch'] = async (_fn, id) => {
    if (failNext > 0) {
      failNext--
      throw new Error('boot failed')
    }
    let exit!: (e: ProcessExit) => void
    const exited = new Promise<ProcessExit>((resolve) => { exit = resolve })
    const proc: FakeProcess = {
      id, pid: pid++, port: 40000 + launched.length, sent: [], ended: false, exited, exit,
      send(line) { proc.sent.push(line.trim()) },
      end() { proc.ended = true; exit({ code: 0, signal: null, announced: 'termination' }) },
      kill() { exit({ code: null, signal: 'SIGKILL' }) },
    }
    launched.push(proc)
    return proc
  }
  return { launch, launched, failNextLaunches: (n: number) => { failNext = n } }
}

const WALL = 10_000
const GRACE = 1_000
let pool: IsolatePool | undefined

beforeEach(() => { vi.useFakeTimers() })
afterEach(async () => {
  await pool?.stop()
  pool = undefined
  vi.useRealTimers()
})

async function startPool(options: Partial<PoolOptions> = {}) {
  const fake = fakeLauncher()
  pool = createIsolatePool({ functions: ['chat'], perFunction: 1, launch: fake.launch, wallClockMs: WALL, graceMs: GRACE, ...options })
  await pool.start()
  return fake
}

describe('an isolate that is busy through its wall clock', () => {
  it('is retired at half (a replacement serves), gets beforeunload before the end, and is told to exit at the end', async () => {
    const fake = await startPool()
    const first = fake.launched[0]!
    const done = pool!.pick('chat')!.begin() // a long stream in flight
    await vi.advanceTimersByTimeAsync(WALL / 2)
    expect(fake.launched).toHaveLength(2)
    expect(pool!.list().map((i) => [i.id, i.retired])).toEqual([[first.id, true], [fake.launched[1]!.id, false]])
    expect(pool!.pick('chat')!.info.id).toBe(fake.launched[1]!.id)
    expect(first.sent).toEqual([])
    await vi.advanceTimersByTimeAsync(WALL / 2 - GRACE)
    expect(first.sent).toEqual(['beforeunload wall_clock'])
    await vi.advanceTimersByTimeAsync(GRACE)
    expect(first.sent).toEqual(['beforeunload wall_clock', 'exit wall_clock'])
    const launches = fake.launched.length
    first.exit({ code: 0, signal: null, announced: 'wall_clock' })
    await vi.advanceTimersByTimeAsync(0)
    done()
    expect(pool!.exits().map((e) => [e.id, e.reason, e.code])).toEqual([[first.id, 'wall_clock', 0]])
    expect(fake.launched).toHaveLength(launches) // its replacement started at its retirement, not again now
  })

  it('is SIGKILLed when it does not exit at the end (a busy loop never reads its commands), still as wall_clock', async () => {
    const fake = await startPool()
    pool!.pick('chat')!.begin()
    await vi.advanceTimersByTimeAsync(WALL + 2_000)
    expect(pool!.exits().map((e) => [e.id, e.reason, e.signal])).toEqual([[fake.launched[0]!.id, 'wall_clock', 'SIGKILL']])
  })
})

describe('an idle isolate', () => {
  it('is asked to drop early at half its wall clock', async () => {
    const fake = await startPool()
    await vi.advanceTimersByTimeAsync(WALL / 2 - 1)
    expect(fake.launched[0]!.sent).toEqual([])
    await vi.advanceTimersByTimeAsync(1)
    expect(fake.launched[0]!.sent).toEqual(['drop-when-idle'])
  })

  it('once retired, is asked when its last request ends, not before', async () => {
    const fake = await startPool()
    const one = pool!.pick('chat')!.begin()
    const two = pool!.pick('chat')!.begin()
    await vi.advanceTimersByTimeAsync(WALL / 2)
    one()
    one() // ending twice counts once
    expect(fake.launched[0]!.sent).toEqual([])
    two()
    expect(fake.launched[0]!.sent).toEqual(['drop-when-idle'])
  })
})

describe('kills and replacements', () => {
  it('kill-every SIGKILLs a random isolate and a replacement starts', async () => {
    const fake = await startPool({ perFunction: 2, wallClockMs: 0, killEveryMs: 3_000, random: () => 0.99 })
    const victim = fake.launched[1]!
    await vi.advanceTimersByTimeAsync(3_000)
    expect(pool!.exits().map((e) => [e.id, e.reason, e.signal])).toEqual([[victim.id, 'killed', 'SIGKILL']])
    expect(pool!.list().map((i) => i.id)).toEqual([fake.launched[0]!.id, fake.launched[2]!.id])
  })

  it('an isolate that exits on its own is recorded as crashed and replaced', async () => {
    const fake = await startPool({ wallClockMs: 0 })
    fake.launched[0]!.exit({ code: 1, signal: null })
    await vi.advanceTimersByTimeAsync(0)
    expect(pool!.exits().map((e) => [e.reason, e.code])).toEqual([['crashed', 1]])
    expect(pool!.list().map((i) => i.id)).toEqual([fake.launched[1]!.id])
  })

  it('a replacement that fails to start is retried later', async () => {
    const fake = await startPool({ wallClockMs: 0 })
    fake.failNextLaunches(1)
    expect(pool!.kill(fake.launched[0]!.id)).toBe(true)
    await vi.advanceTimersByTimeAsync(0)
    expect(pool!.list()).toEqual([])
    expect(pool!.pick('chat')).toBeUndefined()
    await vi.advanceTimersByTimeAsync(1_000)
    expect(pool!.list().map((i) => i.id)).toEqual([fake.launched[1]!.id])
  })

  it('a request waiting for an isolate gets the replacement once it serves', async () => {
    const fake = await startPool({ wallClockMs: 0 })
    fake.failNextLaunches(1)
    pool!.kill(fake.launched[0]!.id)
    await vi.advanceTimersByTimeAsync(0)
    const waiting = pool!.waitForServing('chat', 30_000)
    await vi.advanceTimersByTimeAsync(1_000)
    expect((await waiting)?.info.id).toBe(fake.launched[1]!.id)
  })

  it('kill of an unknown id is false', async () => {
    await startPool({ wallClockMs: 0 })
    expect(pool!.kill('chat-99')).toBe(false)
  })
})

describe('picking', () => {
  it('chooses among serving isolates by the random draw, never a retired one', async () => {
    const fake = await startPool({ perFunction: 3, wallClockMs: 0, random: (() => { const draws = [0, 0.5, 0.99]; return () => draws.shift() ?? 0 })() })
    expect([pool!.pick('chat')!.info.id, pool!.pick('chat')!.info.id, pool!.pick('chat')!.info.id]).toEqual(fake.launched.map((p) => p.id))
    expect(pool!.pick('embed')).toBeUndefined()
  })
})

it('stop terminates every isolate (closing its commands) and resolves once they are gone', async () => {
  const fake = await startPool({ perFunction: 2 })
  await pool!.stop()
  expect(fake.launched.map((p) => p.ended)).toEqual([true, true])
  expect(pool!.list()).toEqual([])
  pool = undefined
})
