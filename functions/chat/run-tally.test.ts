import { describe, expect, it } from 'vitest'
import { addDelta, FAILED_ANSWER, newTally, tokensUsedBy, toEndStatus, toFailureOutcome, toOutcome, toRunFacts } from './run-tally.ts'

const complete = { status: 'complete' as const, finish_reason: 'stop', input_tokens: 7, output_tokens: 3 }

describe('run tally', () => {
  it('counts deltas with their offsets (rounded to 0.1 ms); the first one sets the TTFB', () => {
    const t = newTally()
    expect(addDelta(t, 'Hel', 12.345)).toBe(true)
    expect(addDelta(t, 'lo', 20.01)).toBe(false)
    expect(t).toEqual({ text: 'Hello', seq: 2, ttfbMs: 12.345, offsets: [12.3, 20] })
    expect(toRunFacts(t, { reason: 'done', answer: complete, estimated: false, durationMs: 30, resumes: 1 })).toMatchObject({
      text: 'Hello', frames: 2, offsets: [12.3, 20], ttfbMs: 12.345, bytes: 0, durationMs: 30, resumes: 1,
    })
  })

  it('charges the provider\'s usage, else an estimate, and nothing when no delta came', () => {
    const t = newTally()
    expect(tokensUsedBy(t, FAILED_ANSWER, 40)).toBe(0)
    addDelta(t, 'some words of an answer', 1)
    expect(tokensUsedBy(t, FAILED_ANSWER, 40)).toBeGreaterThan(40)
    expect(tokensUsedBy(t, complete, 40)).toBe(10)
  })

  it('ends as done with the stored answer\'s id, cut after a client abort, else the failure', () => {
    const run = { text: 'Hello', ttfbMs: 12.34, traceId: 'a'.repeat(32), startedAt: 100 }
    expect(toOutcome('done', undefined, 'm1', complete, run, 150)).toEqual({
      kind: 'done', content: 'Hello',
      done: { trace_id: run.traceId, message_id: 'm1', finish_reason: 'stop', usage: { input_tokens: 7, output_tokens: 3 }, ttfb_ms: 12.3, duration_ms: 50 },
    })
    expect(toOutcome('done', undefined, undefined, complete, run)).toMatchObject({ kind: 'error', code: 'database_unavailable' })
    expect(toOutcome('client_abort', undefined, 'm1', complete, run)).toEqual({ kind: 'cut' })
    const failure = toFailureOutcome({ reason: 'timeout', code: 'provider_timeout', message: 'slow', retryAfter: 2 })
    expect(failure).toEqual({ kind: 'error', code: 'provider_timeout', message: 'slow', retryAfter: 2 })
    expect(toOutcome('timeout', failure, 'm1', FAILED_ANSWER, run)).toBe(failure)
    expect([toEndStatus({ kind: 'cut' }), toEndStatus(failure)]).toEqual(['cut', 'error'])
  })
})
