import { createClient } from '@supabase/supabase-js'
import { describe, expect, it } from 'vitest'
import { supabaseFunctionsUrl, toEndpoint } from './endpoint.ts'
import type { SupabaseLike } from './types.ts'

// supabase-js builds a Realtime client eagerly; Node 20 has no WebSocket and none is opened here.
class NoWebSocket { constructor() { throw new Error('unused') } }

describe('toEndpoint', () => {
  it('builds function URLs from a project URL and sends the token when there is one', async () => {
    let token: string | null = null
    const e = toEndpoint({ url: 'http://127.0.0.1:54321/', getToken: () => token })
    expect(e.functionUrl('chat')).toBe('http://127.0.0.1:54321/functions/v1/chat')
    expect(await e.headers()).toEqual({})
    token = 'abc'
    expect(await e.headers()).toEqual({ authorization: 'Bearer abc' })
  })

  it("reads a real supabase-js client's functions URL and session, anon key when signed out", async () => {
    const store = new Map<string, string>()
    const supabase = createClient('http://127.0.0.1:1/', 'anon-key', {
      realtime: { transport: NoWebSocket as never },
      auth: { storageKey: 'k', storage: { getItem: (k) => store.get(k) ?? null, setItem: (k, v) => void store.set(k, v), removeItem: (k) => void store.delete(k) }, autoRefreshToken: false, detectSessionInUrl: false },
    })
    expect(supabaseFunctionsUrl(supabase)).toBe('http://127.0.0.1:1/functions/v1')
    const e = toEndpoint({ supabase })
    expect(e.functionUrl('embed')).toBe('http://127.0.0.1:1/functions/v1/embed')
    expect(await e.headers()).toEqual({ authorization: 'Bearer anon-key', apikey: 'anon-key' })
    store.set('k', JSON.stringify({ access_token: 'user-jwt', refresh_token: 'r', expires_at: Math.floor(Date.now() / 1000) + 3600, token_type: 'bearer', user: { id: 'u' } }))
    expect(await e.headers()).toEqual({ authorization: 'Bearer user-jwt', apikey: 'anon-key' })
  })

  it('uses the accessToken option of a third-party-auth client', async () => {
    const like = { functionsUrl: new URL('https://x.supabase.co/functions/v1'), supabaseKey: 'k', accessToken: async () => 'third-party', auth: { getSession: () => { throw new Error('not with accessToken') } } }
    const e = toEndpoint({ supabase: like as unknown as SupabaseLike })
    expect(await e.headers()).toEqual({ authorization: 'Bearer third-party', apikey: 'k' })
  })
})
