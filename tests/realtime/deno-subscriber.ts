// Run under real Deno (a real WebSocket) by subscribe.test.ts: a supabase-js client signed in
// with the given token listens for chat.done through the client library, or (`topic` mode) tries
// to join any private topic directly. Prints one JSON line per thing that happens.
import { createClient } from '@supabase/supabase-js'
import { subscribeChatDone } from '../../shared/client/index.ts'

// Deno's own global; declared here so the repo's Node type check reads this file too.
declare const Deno: { args: string[] }

const [url, anonKey, token, mode, target] = Deno.args as [string, string, string, 'session' | 'topic', string]
const print = (line: unknown) => console.log(JSON.stringify(line))

// A generous join timeout (realtime-js's default is 10 s): the test machine may be busy.
const supabase = createClient(url, anonKey, { auth: { persistSession: false, autoRefreshToken: false }, realtime: { timeout: 60_000 } })
const { error } = await supabase.auth.setSession({ access_token: token, refresh_token: 'unused-in-this-test' })
if (error) print({ error: 'sign_in', message: error.message })

if (mode === 'session') {
  try {
    const sub = await subscribeChatDone({ supabase, session_id: target, onDone: (done) => print({ done }) })
    print({ subscribed: sub.topic })
  } catch (err) {
    print({ error: (err as { code?: string }).code, message: (err as Error).message })
  }
} else {
  await supabase.realtime.setAuth(token)
  const channel = supabase.channel(target, { config: { private: true } })
  channel
    .on('broadcast', { event: 'chat.done' }, (m) => print({ done: m.payload }))
    .subscribe((status, err) => {
      print({ status, error: err?.message })
      // One answer is all the test needs; a refused channel would otherwise retry its join.
      if (status !== 'SUBSCRIBED') void supabase.removeChannel(channel)
    })
}
