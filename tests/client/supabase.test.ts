// Both clients inside a supabase-js app: a real createClient() whose session lives in its own
// storage; the functions URL and the access token come from it, refreshed as supabase-js
// refreshes it (a stand-in answers GoTrue's refresh grant; everything else is the real server).
import { createClient } from '@supabase/supabase-js'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { streamChat } from '../../shared/client/chat.ts'
import { embedTexts } from '../../shared/client/embed.ts'
import { supabaseFunctionsUrl } from '../../shared/client/endpoint.ts'
import { startCutProxy, type CutProxy } from '../support/cut-proxy.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'
import { startServer, type RunningServer } from '../support/server.ts'
import { startSupabaseGateway, toSession, type SupabaseGateway } from './supabase-gateway.ts'

const SECRET = 'client-supabase-secret-at-least-32-characters'
const STORAGE_KEY = 'sb-test-auth-token'

let db: TestDatabase
let server: RunningServer
let proxy: CutProxy
let gateway: SupabaseGateway
const refreshTokens = new Map<string, string>()

beforeAll(async () => {
  db = await freshDatabase()
  server = await startServer({
    DATABASE_URL: db.url, JWT_SECRET: SECRET,
    SIM_TTFB_MS: '10', SIM_TOKENS_PER_SECOND: '1000', SIM_MIN_TOKENS: '60', SIM_MAX_TOKENS: '80',
    SIM_FAILURE_RATE: '0', SIM_MID_STREAM_FAILURE_RATE: '0',
  })
  proxy = await startCutProxy(server.baseUrl)
  gateway = await startSupabaseGateway(proxy.url, SECRET, refreshTokens)
}, 120_000)

afterAll(async () => {
  await gateway?.close()
  await proxy?.close()
  await server?.stop()
  await db?.drop()
})

/**
 * supabase-js builds its Realtime client eagerly and Node 20 has no global WebSocket; these tests
 * never open a channel, so a constructor that refuses is all Realtime needs here.
 */
class NoWebSocket {
  constructor() {
    throw new Error('Realtime is not used in these tests')
  }
}

/** A supabase-js client signed in as `userId`, its session seeded through its storage option. */
async function signedInClient(userId: string, expiresAt = Math.floor(Date.now() / 1000) + 3600) {
  const store = new Map<string, string>()
  const refreshToken = `refresh-${crypto.randomUUID()}`
  refreshTokens.set(refreshToken, userId)
  // 15 min, where the stand-in's refreshed tokens live an hour: the two never sign the same bytes.
  const token = await signUserToken(SECRET, userId, 900)
  store.set(STORAGE_KEY, JSON.stringify(toSession(token, userId, refreshToken, expiresAt)))
  const supabase = createClient(gateway.url, 'anon-key-for-tests', {
    realtime: { transport: NoWebSocket as never },
    auth: {
      storageKey: STORAGE_KEY,
      storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) },
      autoRefreshToken: false, persistSession: true, detectSessionInUrl: false,
    },
  })
  return { supabase, store, token, refreshToken }
}

describe('clients in a supabase-js app', () => {
  it('takes the functions URL and the session token from the client', async () => {
    const userId = crypto.randomUUID()
    const { supabase, token } = await signedInClient(userId)
    expect(supabaseFunctionsUrl(supabase)).toBe(`${gateway.url}/functions/v1`)
    const before = gateway.functionAuth.length
    const result = await streamChat({ supabase, session_id: crypto.randomUUID(), content: 'hi from supabase-js' }).result
    expect(result.error).toBe(null)
    expect(gateway.functionAuth.slice(before)).toEqual([`Bearer ${token}`])
    const [row] = await db.sql<{ user_id: string; content: string }[]>`select user_id, content from public.messages where id = ${result.done!.message_id}`
    expect(row).toEqual({ user_id: userId, content: result.text })
  })

  it('uses the token supabase-js refreshes when the stored one has expired', async () => {
    const userId = crypto.randomUUID()
    const { supabase, token } = await signedInClient(userId, Math.floor(Date.now() / 1000) - 10)
    const refreshesBefore = gateway.refreshes
    const before = gateway.functionAuth.length
    const result = await streamChat({ supabase, session_id: crypto.randomUUID(), content: 'stale session' }).result
    expect(result.error).toBe(null)
    expect(gateway.refreshes).toBe(refreshesBefore + 1)
    const [sent] = gateway.functionAuth.slice(before)
    expect(sent).toMatch(/^Bearer /)
    expect(sent).not.toBe(`Bearer ${token}`)
  })

  it('asks for the session again before a resume, so a token refreshed meanwhile is the one sent', async () => {
    const userId = crypto.randomUUID()
    const { supabase, store, refreshToken } = await signedInClient(userId)
    const next = await signUserToken(SECRET, userId, 1800)
    let chats = 0
    proxy.setPlan(({ path }) => (path.split('?')[0] === '/functions/v1/chat' && ++chats === 1 ? 2500 : null))
    const before = gateway.functionAuth.length
    const result = await streamChat({
      supabase, session_id: crypto.randomUUID(), content: 'cut me once', baseDelayMs: 10,
      // What supabase-js does when it refreshes: a new session in its storage.
      onRetry: () => store.set(STORAGE_KEY, JSON.stringify(toSession(next, userId, refreshToken, Math.floor(Date.now() / 1000) + 1800))),
    }).result
    proxy.setPlan(() => null)
    expect(result.error).toBe(null)
    const sent = gateway.functionAuth.slice(before)
    expect(sent).toHaveLength(2)
    expect(sent[1]).toBe(`Bearer ${next}`)
    expect(sent[0]).not.toBe(sent[1])
    const [row] = await db.sql<{ content: string }[]>`select content from public.messages where id = ${result.done!.message_id}`
    expect(row!.content).toBe(result.text)
  })

  it('embeds through the same client', async () => {
    const userId = crypto.randomUUID()
    const { supabase } = await signedInClient(userId)
    const result = await embedTexts({ supabase, input: ['alpha text', 'beta text', 'gamma text'], batchSize: 2 })
    expect(result.ids).toHaveLength(3)
    const rows = await db.sql<{ id: string; user_id: string }[]>`select id, user_id from public.document_embeddings where id = any(${result.ids}::uuid[])`
    expect(rows.map((r) => r.user_id)).toEqual([userId, userId, userId])
  })
})
