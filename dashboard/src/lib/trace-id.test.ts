import { describe, expect, it } from 'vitest'
import { isTraceId, parseLookup, parseTraceInput } from './trace-id'

const id = '4bf92f3577b34da6a3ce929d0e0e4736'

describe('parseTraceInput', () => {
  it('takes a bare trace id in any case, with whitespace', () => {
    expect(parseTraceInput(`  ${id.toUpperCase()}\n`)).toBe(id)
    expect(isTraceId(id)).toBe(true)
  })

  it('takes a whole traceparent, with or without its header name', () => {
    expect(parseTraceInput(`00-${id}-00f067aa0ba902b7-01`)).toBe(id)
    expect(parseTraceInput(`traceparent: 00-${id}-00f067aa0ba902b7-01`)).toBe(id)
  })

  it('refuses anything else', () => {
    for (const bad of ['', 'abc', id.slice(1), `${id}0`, `00-${id}-00f067aa0ba902b7`, `00-${id}-xyz-01`]) {
      expect(parseTraceInput(bad)).toBeNull()
    }
  })
})

describe('parseLookup', () => {
  it('tells trace ids from message ids', () => {
    expect(parseLookup(id)).toEqual({ kind: 'trace', trace_id: id })
    expect(parseLookup(' 5B0C6F2E-1D2A-4C3B-9E8F-7A6B5C4D3E2F ')).toEqual({ kind: 'message', message_id: '5b0c6f2e-1d2a-4c3b-9e8f-7a6b5c4d3e2f' })
    expect(parseLookup('5b0c6f2e-1d2a-4c3b-9e8f')).toBeNull()
  })
})
