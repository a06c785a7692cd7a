// Rate limits across requests (Postgres, one statement) and the history token budget.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { countMessageTokens } from '../../functions/providers/tokens.ts'
import type { ChatMessage, ChatProvider } from '../../functions/providers/types.ts'
import { createChatFixture, createManualProvider } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { minuteWithRoom, until } from '../support/wait.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })


describe('rate limits', () => {
  it('admits exactly K of N parallel requests from one user; the rest get 429 with retry-after, a span event and a warn log', async () => {
    await minuteWithRoom() // the limit counts per clock minute: all eleven in one
    const user = crypto.randomUUID()
    const f = createChatFixture(db.sql, { RATE_LIMIT_RPM: '4', RATE_LIMIT_TPM: '0' })
    const token = await f.token(user)
    const responses = await Promise.all(Array.from({ length: 11 }, () =>
      f.request({ session_id: crypto.randomUUID(), content: 'quick one' }, { token })))
    const ok = responses.filter((r) => r.status === 200)
    const limited = responses.filter((r) => r.status === 429)
    expect([ok.length, limited.length]).toEqual([4, 7])
    await Promise.all(ok.map((r) => r.text()))
    for (const r of limited) {
      const retry = Number(r.headers.get('retry-after'))
      expect(retry).toBeGreaterThanOrEqual(1)
      expect(retry).toBeLessThanOrEqual(60)
      expect((await r.json()).error.code).toBe('rate_limited')
    }
    const [{ n }] = await db.sql`select count(*)::int as n from messages where user_id = ${user} and role = 'user'`
    expect(n).toBe(4) // refused requests stored nothing
    await f.telemetry.flush()
    const roots = f.memory.getFinishedSpans().filter((s) => s.name === 'POST /functions/v1/chat' && s.attributes['error.type'] === 'rate_limited')
    expect(roots).toHaveLength(7)
    expect(roots[0].events.map((e) => [e.name, e.attributes?.['streamscope.rate_limit.limit']])).toContainEqual(['rate_limit.exceeded', 'requests_per_minute'])
    const warns = f.logs.map((l) => JSON.parse(l)).filter((l) => l.message === 'rate limit exceeded')
    expect(warns).toHaveLength(7)
    expect(warns[0]).toMatchObject({ level: 'warn', limit: 'requests_per_minute' })
  })

  it('counts estimated input tokens up front and corrects them to the real usage at the end', async () => {
    const user = crypto.randomUUID()
    const manual = createManualProvider()
    const f = createChatFixture(db.sql, { RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '100000' }, manual.provider)
    manual.delta('ok')
    manual.done({ input_tokens: 40, output_tokens: 2, estimated: false })
    const res = await f.request({ session_id: crypto.randomUUID(), content: 'count me' }, { token: await f.token(user) })
    await res.text()
    // Settled after the answer, in the background: wait for it, then for nothing else.
    const settled = async () => Number((await db.sql`select tokens from public.rate_limits where user_id = ${user}`)[0]?.tokens)
    await until(async () => (await settled()) === 42, 'the tokens to be settled at 40 + 2').catch(() => {})
    expect(await settled()).toBe(42)
  })

  it('refuses the tokens limit with 429, and a request larger than the whole limit with 413', async () => {
    await minuteWithRoom() // the row inserted below is this minute's: the request must count in it too
    const user = crypto.randomUUID()
    const f = createChatFixture(db.sql, { RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '30' })
    const token = await f.token(user)
    const big = await f.request({ session_id: crypto.randomUUID(), content: 'word '.repeat(60) }, { token })
    expect([big.status, (await big.json()).error.code]).toEqual([413, 'content_too_large'])
    await db.sql`insert into public.rate_limits (user_id, window_start, requests, tokens) values (${user}, date_trunc('minute', now()), 1, 25)`
    const res = await f.request({ session_id: crypto.randomUUID(), content: 'small' }, { token })
    expect(res.status).toBe(429)
    expect((await res.json()).error.message).toMatch(/tokens per minute/)
  })
})

describe('history', () => {
  it('sends the newest messages that fit the token budget, oldest dropped first, and says how many in `select messages`', async () => {
    const user = crypto.randomUUID()
    const session = crypto.randomUUID()
    const earlier: ChatMessage[] = Array.from({ length: 6 }, (_, i) => ({
      role: i % 2 ? 'assistant' : 'user', content: `message ${i} ${'padding '.repeat(10)}`,
    }))
    for (const [i, m] of earlier.entries()) {
      await db.sql`insert into messages (session_id, user_id, role, content, created_at)
        values (${session}, ${user}, ${m.role}, ${m.content}, now() - make_interval(mins => ${10 - i}))`
    }
    const cost = (m: ChatMessage) => countMessageTokens([m]) - countMessageTokens([])
    const budget = cost(earlier[5]) + cost(earlier[4]) + cost(earlier[3]) // exactly three fit
    let seen: ChatMessage[] = []
    const recording: ChatProvider = {
      name: 'recording',
      async *stream(req) {
        seen = req.messages
        yield { type: 'delta', text: 'ok' }
        yield { type: 'done', finish_reason: 'stop', usage: { input_tokens: 1, output_tokens: 1, estimated: false }, response_model: 'r' }
      },
    }
    const f = createChatFixture(db.sql, { HISTORY_TOKEN_BUDGET: String(budget), HISTORY_MESSAGES: '5' }, recording)
    const res = await f.request({ session_id: session, content: 'and now?' }, { token: await f.token(user) })
    await res.text()
    expect(seen.map((m) => m.content)).toEqual([earlier[3].content, earlier[4].content, earlier[5].content, 'and now?'])
    await f.telemetry.flush()
    const span = f.memory.getFinishedSpans().find((s) => s.name === 'select messages' && s.spanContext().traceId === res.headers.get('x-trace-id'))!
    // HISTORY_MESSAGES=5 fetched five; three fit.
    expect(span.attributes).toMatchObject({
      'streamscope.history.messages_sent': 3, 'streamscope.history.messages_dropped': 2, 'streamscope.history.tokens': budget,
    })
  })
})
