// chat.done of the signed-in user's chats, live over Supabase Realtime: the private channel the
// chat function announces on (docs/chat.md "Realtime"). For another tab or device; the page that
// asked already gets chat.done in its own stream. supabase-js is read structurally, as elsewhere.
import { CHAT_DONE_EVENT, chatTopic } from '../realtime.ts'
import type { DoneFrame } from '../sse/frames.ts'
import { ClientError } from './post-json.ts'

/** The parts of a supabase-js 2.x client (and of its RealtimeChannel) a subscription uses. */
export interface RealtimeChannelLike {
  on(type: 'broadcast', filter: { event: string }, callback: (message: { payload: any }) => void): RealtimeChannelLike
  subscribe(callback?: (status: `${ChannelStatus}`, err?: Error) => void): RealtimeChannelLike
}
export interface RealtimeSupabaseLike {
  auth: { getSession(): Promise<{ data: { session: { access_token: string } | null } }> }
  realtime: { setAuth(token?: string | null): Promise<void> }
  channel(topic: string, opts: { config: { private: boolean } }): RealtimeChannelLike
  removeChannel(channel: any): Promise<unknown>
}

type ChannelStatus = 'SUBSCRIBED' | 'TIMED_OUT' | 'CLOSED' | 'CHANNEL_ERROR'

export interface ChatDoneOptions {
  supabase: RealtimeSupabaseLike
  session_id: string
  onDone: (done: DoneFrame) => void
  /** Every channel status after the first SUBSCRIBED (reconnects, errors), for a status line. */
  onStatus?: (status: ChannelStatus, error?: Error) => void
}

export interface ChatDoneSubscription {
  /** `chat:<user_id>:<session_id>`, the user being the token's `sub`. */
  topic: string
  unsubscribe(): Promise<void>
}

/** The `sub` of a JWT, unverified: it only names the topic; Realtime checks the token itself. */
export function subjectOf(token: string): string | null {
  try {
    const part = token.split('.')[1]!.replace(/-/g, '+').replace(/_/g, '/')
    const sub = JSON.parse(atob(part.padEnd(Math.ceil(part.length / 4) * 4, '='))).sub
    return typeof sub === 'string' && sub ? sub : null
  } catch {
    return null
  }
}

async function userToken(supabase: RealtimeSupabaseLike): Promise<string | null> {
  // A client built with the `accessToken` option (third-party auth) has no auth.getSession.
  const own = (supabase as { accessToken?: () => Promise<string | null> }).accessToken
  if (typeof own === 'function') return own()
  return (await supabase.auth.getSession()).data.session?.access_token ?? null
}

/**
 * Joins the user's private channel for one chat session and calls `onDone` with each chat.done
 * payload. Resolves once Realtime accepted the join; rejects with a ClientError when nobody is
 * signed in (`unauthorized`) or Realtime refused or timed out (`realtime_unavailable`): a
 * refusal is what a missing policy, a public-only project or someone else's topic looks like.
 */
export async function subscribeChatDone(o: ChatDoneOptions): Promise<ChatDoneSubscription> {
  const token = await userToken(o.supabase)
  const userId = token ? subjectOf(token) : null
  if (!token || !userId) throw new ClientError('unauthorized', 'sign in before subscribing to chat.done', null, null, false)
  // A private channel is joined with the token Realtime holds; set the user's before joining.
  await o.supabase.realtime.setAuth(token)
  const topic = chatTopic(userId, o.session_id)
  const channel = o.supabase.channel(topic, { config: { private: true } })
  channel.on('broadcast', { event: CHAT_DONE_EVENT }, (message) => o.onDone(message.payload as DoneFrame))
  await new Promise<void>((resolve, reject) => {
    let joined = false
    channel.subscribe((status, err) => {
      if (joined) return o.onStatus?.(status, err)
      if (status === 'SUBSCRIBED') {
        joined = true
        return resolve()
      }
      void o.supabase.removeChannel(channel)
      reject(new ClientError('realtime_unavailable', `could not join ${topic}: ${err?.message ?? status}`, null, null, status === 'TIMED_OUT'))
    })
  })
  return { topic, unsubscribe: async () => { await o.supabase.removeChannel(channel) } }
}
