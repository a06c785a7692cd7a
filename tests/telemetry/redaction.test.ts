// Secrets never reach the telemetry tables or stdout, whatever a caller logs.
import { afterAll, beforeAll, expect, it } from 'vitest'
import { recordError } from '../../shared/telemetry/spans.ts'
import { createChatFixture } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const API_KEY = 'sk-proj-Z9y8X7w6V5u4T3s2R1q0'

it('keys and JWTs never appear in stored spans, logs or stdout lines', async () => {
  const f = createChatFixture(db.sql)
  const user = '0d9c8b7a-6f5e-4d3c-8b2a-190807060504'
  const jwt = await f.token(user)
  const forged = jwt.slice(0, -4) + 'AAAA'

  const ok = await f.request({ session_id: crypto.randomUUID(), content: 'hello' }, { token: jwt, headers: { 'x-api-key': API_KEY } })
  await ok.text()
  const rejected = await f.request({ session_id: crypto.randomUUID(), content: 'hello' }, { token: forged })
  expect(rejected.status).toBe(401)

  // What careless code might do: log headers, an error quoting a token, a key in an attribute.
  const span = f.telemetry.tracer.startSpan('careless', { attributes: { 'http.request.header.authorization': `Bearer ${jwt}`, 'openai.api_key': API_KEY, note: `called with ${API_KEY}` } })
  recordError(span, new Error(`upstream said: invalid token ${jwt}`), 'provider_error')
  span.addEvent('retry', { header: `Bearer ${jwt}` })
  span.end()
  f.telemetry.logger.warn(`request from ${jwt}`, { headers: { authorization: `Bearer ${jwt}`, 'x-api-key': API_KEY }, password: 'hunter2', detail: `key ${API_KEY}` }, span)
  await f.telemetry.flush()

  const stored = [
    ...(await db.sql`select row_to_json(s)::text as t from telemetry.spans s`),
    ...(await db.sql`select row_to_json(l)::text as t from telemetry.logs l`),
  ].map((r) => r.t as string)
  expect(stored.some((t) => t.includes('careless'))).toBe(true)
  expect(stored.some((t) => t.includes('[REDACTED]'))).toBe(true)
  const everything = [...stored, ...f.logs].join('\n')
  for (const secret of [jwt, forged, jwt.split('.')[1], API_KEY, 'hunter2']) expect(everything).not.toContain(secret)
  expect(everything).not.toMatch(/eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\./)
})
