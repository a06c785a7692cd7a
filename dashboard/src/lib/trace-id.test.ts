import { describe, expect, it } from 'vitest'
import { isTraceId, parseTraceInput } from './trace-id'

const id = '0af7651916cd43dd8448eb211c80319c'

describe('parseTraceInput', () => {
  it('accepts a bare trace id, trimmed and lowercased', () => {
    expect(parseTraceInput(`  ${id.toUpperCase()} `)).toBe(id)
  })

  it('takes the trace id out of a traceparent', () => {
    expect(parseTraceInput(`00-${id}-b7ad6b7169203331-01`)).toBe(id)
  })

  it('rejects anything else', () => {
    for (const input of ['', 'hello', id.slice(1), `${id}0`, `00-${id}-b7ad6b71692033-01`, `${id}-b7ad6b7169203331`]) {
      expect(parseTraceInput(input)).toBeNull()
    }
  })
})

describe('isTraceId', () => {
  it('wants exactly 32 lowercase hex digits', () => {
    expect(isTraceId(id)).toBe(true)
    expect(isTraceId(id.toUpperCase())).toBe(false)
    expect(isTraceId(`${id} `)).toBe(false)
  })
})
