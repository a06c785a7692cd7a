import { describe, expect, it } from 'vitest'
import { withCors } from './cors.ts'

const APP = 'https://app.example.com'
const calls: Request[] = []
const inner = async (req: Request) => {
  calls.push(req)
  return Response.json({ ok: true }, { headers: { 'x-trace-id': 'abc' } })
}
const preflight = (origin: string) => new Request('http://f.test/functions/v1/chat', {
  method: 'OPTIONS',
  headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, last-event-id' },
})
const post = (origin?: string) => new Request('http://f.test/functions/v1/chat', { method: 'POST', headers: origin ? { origin } : {} })

describe('withCors', () => {
  it('answers a preflight itself with what the client library sends, without calling the function', async () => {
    calls.length = 0
    const res = await withCors(inner, ['*'])(preflight(APP))
    expect(res.status).toBe(204)
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-allow-methods')).toBe('POST, OPTIONS')
    for (const h of ['authorization', 'content-type', 'last-event-id', 'traceparent', 'idempotency-key', 'x-resume-trace-id', 'apikey']) {
      expect(res.headers.get('access-control-allow-headers')).toContain(h)
    }
    expect(calls).toHaveLength(0)
  })

  it("lets the page read the trace id and the stream's headers from a response", async () => {
    const res = await withCors(inner, ['*'])(post(APP))
    expect(await res.json()).toEqual({ ok: true })
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(res.headers.get('access-control-expose-headers')).toMatch(/x-trace-id.*x-heartbeat-seconds.*retry-after/)
  })

  it('with a list of origins, allows those only and says the answer varies by origin', async () => {
    const h = withCors(inner, [APP, 'http://localhost:5173'])
    const ok = await h(preflight(APP))
    expect(ok.headers.get('access-control-allow-origin')).toBe(APP)
    expect(ok.headers.get('vary')).toBe('origin')
    const other = await h(preflight('https://evil.example'))
    expect(other.status).toBe(204)
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
    expect(other.headers.get('access-control-allow-headers')).toBeNull()
    const res = await h(post('https://evil.example'))
    expect(res.headers.get('access-control-allow-origin')).toBeNull()
    expect(res.headers.get('vary')).toBe('origin')
  })

  it('passes a plain OPTIONS (not a preflight) to the function, which answers 405 as for any other method', async () => {
    calls.length = 0
    await withCors(inner, ['*'])(new Request('http://f.test/functions/v1/chat', { method: 'OPTIONS' }))
    expect(calls).toHaveLength(1)
  })

  it('copies a response whose headers are immutable', async () => {
    const frozen = async () => {
      const r = await fetch('data:text/plain,hi') // fetch responses have immutable headers
      return r
    }
    const res = await withCors(frozen, ['*'])(post(APP))
    expect(res.headers.get('access-control-allow-origin')).toBe('*')
    expect(await res.text()).toBe('hi')
  })
})
