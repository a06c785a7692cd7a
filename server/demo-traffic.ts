import { signUserToken } from '../shared/auth/jwt.ts'

export interface DemoTrafficOptions {
  baseUrl: string
  jwtSecret: string
  streamsPerSecond?: number
  maxInFlight?: number
}

const USERS = [
  '0b9c4c6e-5f43-4d55-9a51-6f6f0c1a0001', '0b9c4c6e-5f43-4d55-9a51-6f6f0c1a0002',
  '0b9c4c6e-5f43-4d55-9a51-6f6f0c1a0003', '0b9c4c6e-5f43-4d55-9a51-6f6f0c1a0004',
]
const PROMPTS = [
  'How do I stream tokens from an edge function?', 'Summarise the last incident in two lines.',
  'Why is my time to first byte high?', 'Write a haiku about Postgres partitions.',
  'Explain server-sent events to a product manager.', 'What does a traceparent header carry?',
]

/**
 * Keeps the dashboard alive on first look: a few chats a second from a handful of
 * users, with the occasional client that gives up mid-stream or sends a bad request.
 */
export function startDemoTraffic({ baseUrl, jwtSecret, streamsPerSecond = 3, maxInFlight = 40 }: DemoTrafficOptions) {
  const url = `${baseUrl}/functions/v1/chat`
  const sessions = USERS.map(() => crypto.randomUUID())
  const tokens = Promise.all(USERS.map((sub) => signUserToken(jwtSecret, sub, 24 * 3600)))
  let inFlight = 0
  let n = 0

  async function one() {
    const i = n++ % USERS.length
    const roll = Math.random()
    const token = (await tokens)[i]
    const abort = new AbortController()
    const body = roll < 0.03 ? '{"session_id": "not-a-uuid", "content": "hi"}'
      : JSON.stringify({ session_id: sessions[i], content: PROMPTS[n % PROMPTS.length] })
    const auth = roll > 0.98 ? 'Bearer expired.or.forged' : `Bearer ${token}`
    if (roll >= 0.03 && roll < 0.06) setTimeout(() => abort.abort(), 400 + Math.random() * 800)
    const res = await fetch(url, {
      method: 'POST', signal: abort.signal,
      headers: { 'content-type': 'application/json', authorization: auth },
      body,
    })
    await res.arrayBuffer()
  }

  const timer = setInterval(() => {
    if (inFlight >= maxInFlight) return
    inFlight++
    one().catch(() => {}).finally(() => { inFlight-- })
  }, 1000 / streamsPerSecond)
  return { stop: () => clearInterval(timer) }
}
