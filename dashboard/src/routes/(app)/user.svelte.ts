import { apiBase } from './api'

export interface SignedInUser {
  email: string
  id: string
  token: string
  /** Unix seconds. */
  expiresAt: number
}

const KEY = 'streamscope.user'
/** Ask for a new token this long before the old one expires, so a long stream never starts stale. */
const MARGIN_S = 60

/**
 * The signed-in user of the chat and embed apps, kept in localStorage. Tokens come from the local
 * server's POST /local-auth/token (development only); on Supabase this is supabase-js's session.
 */
export class UserSession {
  user = $state<SignedInUser | null>(null)
  error = $state('')
  pending = $state(false)

  constructor(private readonly url: URL) {
    try {
      const saved = JSON.parse(localStorage.getItem(KEY) ?? 'null') as SignedInUser | null
      if (saved?.token && saved.email) this.user = saved
    } catch {
      localStorage.removeItem(KEY)
    }
  }

  async signIn(email: string): Promise<boolean> {
    this.pending = true
    this.error = ''
    try {
      const res = await fetch(`${apiBase(this.url)}/local-auth/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ email }),
      })
      const body = await res.json().catch(() => null)
      if (!res.ok) {
        this.error = body?.error?.message ?? `sign-in failed (HTTP ${res.status})`
        return false
      }
      this.user = { email: body.user.email, id: body.user.id, token: body.access_token, expiresAt: body.expires_at }
      localStorage.setItem(KEY, JSON.stringify(this.user))
      return true
    } catch (err) {
      this.error = `sign-in failed: ${(err as Error).message}`
      return false
    } finally {
      this.pending = false
    }
  }

  signOut(): void {
    this.user = null
    localStorage.removeItem(KEY)
  }

  /** The client library calls this before every attempt: a token about to expire is renewed first. */
  getToken = async (): Promise<string | null> => {
    const user = this.user
    if (!user) return null
    if (user.expiresAt - MARGIN_S < Date.now() / 1000) await this.signIn(user.email)
    return this.user?.token ?? null
  }
}
