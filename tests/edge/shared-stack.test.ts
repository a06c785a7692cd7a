// The shared edge stack answers as the suites that use it expect: a chat through the gateway, from
// an isolate it names, stored in PostgreSQL behind the pooler.
import { afterAll, expect, it } from 'vitest'
import { edgeStack } from '../support/edge.ts'
import { framesOf } from '../support/chat-fixture.ts'

const edge = edgeStack()
const direct = edge.direct()
afterAll(() => direct.end({ timeout: 1 }))

it('streams a chat to chat.done through the gateway and stores its answer', async () => {
  const user = crypto.randomUUID()
  const res = await fetch(`${edge.gatewayUrl}/functions/v1/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await edge.userToken(user)}`, 'content-type': 'application/json' },
    body: JSON.stringify({ session_id: crypto.randomUUID(), content: 'hello shared stack', max_tokens: 5 }),
  })
  expect(res.status).toBe(200)
  expect(res.headers.get('x-isolate')).toMatch(/^chat-\d+$/)
  const frames = framesOf(await res.text())
  expect(frames.at(-1)?.event).toBe('chat.done')
  const rows = await direct`select role from public.messages where user_id = ${user} order by created_at, role desc`
  expect(rows.map((r) => r.role)).toEqual(['user', 'assistant'])
})
