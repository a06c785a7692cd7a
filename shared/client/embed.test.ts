// embedTexts' decisions against scripted responses; the real function is in tests/client/embed.test.ts.
import { describe, expect, it } from 'vitest'
import { embedTexts, toBatches } from './embed.ts'
import { ClientError } from './post-json.ts'

const ok = (body: { input: string[]; document_id: string }) => Response.json({
  trace_id: 't'.repeat(32), document_id: body.document_id, ids: body.input.map((_, i) => `${body.document_id}:${i}`),
  model: 'm', dimension: 3, usage: { input_tokens: body.input.length },
})

function scripted(steps: ((body: { input: string[]; document_id: string }) => Response | Error)[]) {
  const bodies: { input: string[]; document_id: string }[] = []
  const fetch = (async (_url: string, init: RequestInit) => {
    const body = JSON.parse(String(init.body))
    bodies.push(body)
    const r = steps.shift()!(body)
    if (r instanceof Error) throw r
    return r
  }) as typeof globalThis.fetch
  return { fetch, bodies }
}

describe('toBatches', () => {
  it('splits in order', () => {
    expect(toBatches([1, 2, 3, 4, 5], 2)).toEqual([[1, 2], [3, 4], [5]])
    expect(() => toBatches([1], 0)).toThrow(RangeError)
  })
})

describe('embedTexts', () => {
  it('retries a lost batch with the same document_id, so the server replaces instead of adding', async () => {
    const { fetch, bodies } = scripted([ok, () => new TypeError('socket hang up'), ok])
    const delays: number[] = []
    const result = await embedTexts({
      url: 'http://f.test', input: ['a', 'b', 'c'], batchSize: 2, fetch, random: () => 0, sleep: async (ms) => { delays.push(ms) },
    })
    expect(bodies.map((b) => b.input)).toEqual([['a', 'b'], ['c'], ['c']])
    expect(bodies[1]!.document_id).toBe(bodies[2]!.document_id)
    expect(bodies[0]!.document_id).not.toBe(bodies[1]!.document_id)
    expect(delays).toEqual([0])
    expect(result.ids).toHaveLength(3)
    expect(result.usage.input_tokens).toBe(3)
  })

  it('honours retry-after on 429 and 503, and stops on a 4xx', async () => {
    const limited = () => Response.json({ error: { code: 'rate_limited', message: 'slow down', trace_id: 'x' } }, { status: 429, headers: { 'retry-after': '3' } })
    const bad = () => Response.json({ error: { code: 'content_too_large', message: 'too big', trace_id: 'y' } }, { status: 413 })
    const { fetch, bodies } = scripted([limited, bad])
    const delays: number[] = []
    const err = await embedTexts({ url: 'http://f.test', input: ['a'], fetch, sleep: async (ms) => { delays.push(ms) } }).catch((e) => e)
    expect(delays).toEqual([3000])
    expect(bodies).toHaveLength(2)
    expect(err).toBeInstanceOf(ClientError)
    expect(err).toMatchObject({ code: 'content_too_large', status: 413, trace_id: 'y', retryable: false })
  })

  it('gives up after maxAttempts with the last failure', async () => {
    const down = () => new Response('bad gateway', { status: 502 })
    const { fetch } = scripted([down, down, down])
    const err = await embedTexts({ url: 'http://f.test', input: ['a'], fetch, maxAttempts: 3, sleep: async () => {} }).catch((e) => e)
    expect(err).toMatchObject({ code: 'http_502', status: 502, retryable: true })
  })

  it('sends a given document in one request', async () => {
    const { fetch, bodies } = scripted([ok])
    const progress: number[] = []
    await embedTexts({ url: 'http://f.test', input: ['a', 'b', 'c'], batchSize: 1, document_id: 'd', fetch, onProgress: (p) => progress.push(p.done) })
    expect(bodies).toEqual([{ input: ['a', 'b', 'c'], document_id: 'd' }])
    expect(progress).toEqual([0, 3])
  })
})
