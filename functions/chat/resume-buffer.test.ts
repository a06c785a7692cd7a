import { describe, expect, it } from 'vitest'
import { createResumeBuffer, type ResumeLimits } from './resume-buffer.ts'
import type { AnswerRun } from './stream.ts'

const run = (name: string) => ({ name }) as unknown as AnswerRun
const limits = (l: Partial<ResumeLimits> = {}): ResumeLimits => ({ retentionMs: 1000, maxStreams: 3, maxBytes: 100, maxStreamBytes: 40, ...l })

function clock() {
  let t = 0
  return { now: () => t, advance: (ms: number) => { t += ms } }
}

describe('resume buffer', () => {
  it('holds a stream for its user until retention after it ended', () => {
    const c = clock()
    const b = createResumeBuffer(limits(), c.now)
    const slot = b.register('t1', { userId: 'u1' })!
    slot.hold(run('r1'))
    expect(b.get('t1')).toEqual({ run: run('r1'), userId: 'u1' })
    c.advance(10_000) // live streams never expire
    expect(b.get('t1')).toBeDefined()
    slot.ended()
    c.advance(1000)
    expect(b.get('t1')).toBeDefined()
    c.advance(1)
    expect(b.get('t1')).toBeUndefined()
    expect(b.stats()).toEqual({ streams: 0, bytes: 0 })
  })

  it('caps one stream\'s bytes: past the cap the stream stops being resumable', () => {
    const b = createResumeBuffer(limits())
    const slot = b.register('t1', { userId: 'u1' })!
    slot.hold(run('r1'))
    expect(slot.reserve(30)).toBe(true)
    expect(slot.reserve(11)).toBe(false)
    slot.release()
    expect(b.get('t1')).toBeUndefined()
    expect(b.stats().bytes).toBe(0)
  })

  it('caps total bytes and stream count, evicting finished streams oldest first, never live ones', () => {
    const b = createResumeBuffer(limits({ maxStreamBytes: 60 }))
    const s1 = b.register('t1', { userId: 'u' })!
    const s2 = b.register('t2', { userId: 'u' })!
    const s3 = b.register('t3', { userId: 'u' })!
    for (const [s, r] of [[s1, 'r1'], [s2, 'r2'], [s3, 'r3']] as const) { s.hold(run(r)); expect(s.reserve(30)).toBe(true) }
    expect(b.register('t4', { userId: 'u' })).toBeUndefined() // three live streams: no room
    s2.ended()
    s1.ended()
    const s4 = b.register('t4', { userId: 'u' })! // t1 goes: the oldest of the finished ones
    expect(s4).toBeDefined()
    expect(b.get('t1')).toBeUndefined()
    expect(b.get('t2')).toBeDefined()
    s4.hold(run('r4'))
    // 60 bytes held (t2, t3); 50 more would pass 100, so t2 (finished) goes.
    expect(s4.reserve(50)).toBe(true)
    expect(b.get('t2')).toBeUndefined()
    expect(b.stats()).toEqual({ streams: 2, bytes: 80 })
    // Only live streams left: the cap refuses instead of evicting them.
    expect(s3.reserve(25)).toBe(false)
    expect(s3.reserve(20)).toBe(true)
    expect(b.get('t3')).toBeDefined()
  })

  it('keys streams by the server\'s stream id: two chats in one trace are two streams', () => {
    const b = createResumeBuffer(limits())
    const first = b.register('s1', { userId: 'u1', traceId: 't' })!
    first.hold(run('first'))
    const second = b.register('s2', { userId: 'u1', traceId: 't' })!
    second.hold(run('second'))
    expect(b.get('s1')?.run).toEqual(run('first'))
    expect(b.get('s2')?.run).toEqual(run('second'))
    expect(b.register('s1', { userId: 'u2' })).toBeUndefined() // an id is held once
    expect(first.reserve(1)).toBe(true)
  })

  it('finds a user\'s stream by trace id only while it is the only one of theirs in it', () => {
    const b = createResumeBuffer(limits())
    const mine = b.register('s1', { userId: 'u1', traceId: 't' })!
    mine.hold(run('mine'))
    b.register('s2', { userId: 'u2', traceId: 't' })!.hold(run('theirs'))
    expect(b.byTrace('u1', 't')?.run).toEqual(run('mine'))
    expect(b.byTrace('u2', 't')?.run).toEqual(run('theirs'))
    expect(b.byTrace('u3', 't')).toBeUndefined()
    const again = b.register('s3', { userId: 'u1', traceId: 't' })!
    again.hold(run('again'))
    expect(b.byTrace('u1', 't')).toBeUndefined() // two of u1's: ambiguous, never the wrong frames
    again.release()
    expect(b.byTrace('u1', 't')?.run).toEqual(run('mine'))
  })

  it('finds the stream of an Idempotency-Key per user', () => {
    const b = createResumeBuffer(limits())
    b.register('s1', { userId: 'u1', idempotencyKey: 'k' })!.hold(run('first'))
    expect(b.byIdempotencyKey('u1', 'k')).toEqual({ run: run('first'), streamId: 's1' })
    expect(b.byIdempotencyKey('u2', 'k')).toBeUndefined()
  })

  it('is off with zero retention', () => {
    const b = createResumeBuffer(limits({ retentionMs: 0 }))
    expect(b.enabled).toBe(false)
    expect(b.register('t', { userId: 'u' })).toBeUndefined()
  })
})
