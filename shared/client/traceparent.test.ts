import { describe, expect, it } from 'vitest'
import { createTraceContext, parseTraceparent, toTraceparent } from './traceparent.ts'

describe('traceparent', () => {
  it('makes a sampled W3C traceparent: new span id per attempt, same trace', () => {
    const ctx = createTraceContext()
    const a = toTraceparent(ctx)
    const b = toTraceparent(ctx)
    expect(a).toMatch(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/)
    expect(a.split('-')[1]).toBe(ctx.traceId)
    expect(b.split('-')[1]).toBe(ctx.traceId)
    expect(a.split('-')[2]).not.toBe(b.split('-')[2])
    expect(createTraceContext().traceId).not.toBe(ctx.traceId)
  })

  it('reads a valid header and refuses invalid ones', () => {
    expect(parseTraceparent(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-00`)).toEqual({ traceId: 'a'.repeat(32), spanId: 'b'.repeat(16), flags: '00' })
    for (const bad of ['', 'garbage', `00-${'0'.repeat(32)}-${'b'.repeat(16)}-01`, `00-${'a'.repeat(32)}-${'0'.repeat(16)}-01`, `01-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, `00-${'g'.repeat(32)}-${'b'.repeat(16)}-01`]) {
      expect(parseTraceparent(bad)).toBe(null)
    }
  })
})
