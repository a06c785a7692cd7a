import { describe, expect, it } from 'vitest'
import { REDACTED, redactAttributes, redactString, redactValue } from './redact.ts'

const JWT = 'eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjMifQ.dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk'

describe('redaction', () => {
  it('scrubs JWTs, bearer credentials and sk- keys inside any string', () => {
    expect(redactString(`token ${JWT} expired`)).toBe(`token ${REDACTED} expired`)
    expect(redactString('Authorization: Bearer abc.def-ghi')).toBe(`Authorization: Bearer ${REDACTED}`)
    expect(redactString('bearer opaque123')).toBe(`bearer ${REDACTED}`)
    expect(redactString('key=sk-proj-AbCdEf0123456789xyz;')).toBe(`key=${REDACTED};`)
    expect(redactString('nothing secret here, sk-short')).toBe('nothing secret here, sk-short')
  })

  it('replaces the value of secret-looking keys whatever it is', () => {
    const out = redactAttributes({
      authorization: 'Basic dXNlcjpwYXNz', 'http.request.header.authorization': ['x'], api_key: 42, 'openai.apiKey': 'k',
      'db.password': 'hunter2', client_secret: 's', refresh_token: 'r', 'gen_ai.usage.input_tokens': 12, 'gen_ai.request.max_tokens': 5,
    })
    expect(out).toEqual({
      authorization: REDACTED, 'http.request.header.authorization': REDACTED, api_key: REDACTED, 'openai.apiKey': REDACTED,
      'db.password': REDACTED, client_secret: REDACTED, refresh_token: REDACTED, 'gen_ai.usage.input_tokens': 12, 'gen_ai.request.max_tokens': 5,
    })
  })

  it('walks nested objects and arrays, leaves numbers and clean input untouched (same object)', () => {
    expect(redactValue({ headers: { Authorization: `Bearer ${JWT}` }, list: [`x ${JWT}`], n: [1, 2] }))
      .toEqual({ headers: { Authorization: REDACTED }, list: [`x ${REDACTED}`], n: [1, 2] })
    const clean = { a: 'b', offsets: [1, 2, 3] }
    expect(redactAttributes(clean)).toBe(clean)
  })
})
