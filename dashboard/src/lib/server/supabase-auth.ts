// E-mail + password sign-in against the project's Supabase Auth (GoTrue), the request
// supabase-js's signInWithPassword makes. Only the access token is kept, long enough to
// verify it like any other; the refresh token is dropped: the dashboard keeps its own session.

export type PasswordGrant =
  | { ok: true; accessToken: string }
  | { ok: false; reason: 'invalid_credentials' | 'rate_limited' | 'unavailable'; message: string }

const TIMEOUT_MS = 10_000

/** GoTrue's own words, bounded and on one line. */
function messageOf(body: unknown, fallback: string): string {
  const b = (body && typeof body === 'object' ? body : {}) as Record<string, unknown>
  const text = [b.msg, b.message, b.error_description].find((v) => typeof v === 'string' && v.trim())
  return typeof text === 'string' ? text.replace(/\s+/g, ' ').trim().slice(0, 200) : fallback
}

export async function passwordGrant(
  o: { supabaseUrl: string; anonKey: string },
  email: string,
  password: string,
  fetcher: typeof fetch = fetch,
): Promise<PasswordGrant> {
  let res: Response
  try {
    res = await fetcher(`${o.supabaseUrl}/auth/v1/token?grant_type=password`, {
      method: 'POST',
      headers: { apikey: o.anonKey, 'content-type': 'application/json', accept: 'application/json' },
      body: JSON.stringify({ email, password }),
      signal: AbortSignal.timeout(TIMEOUT_MS),
      redirect: 'error',
    })
  } catch {
    return { ok: false, reason: 'unavailable', message: 'Supabase Auth could not be reached; try again.' }
  }
  const body: unknown = await res.json().catch(() => null)
  if (res.ok) {
    const token = (body as { access_token?: unknown } | null)?.access_token
    if (typeof token === 'string' && token) return { ok: true, accessToken: token }
    return { ok: false, reason: 'unavailable', message: 'Supabase Auth answered without an access token.' }
  }
  if (res.status === 429) return { ok: false, reason: 'rate_limited', message: messageOf(body, 'Supabase Auth is rate limiting sign-ins; try again later.') }
  if (res.status >= 500) return { ok: false, reason: 'unavailable', message: `Supabase Auth failed (${res.status}); try again.` }
  return { ok: false, reason: 'invalid_credentials', message: messageOf(body, 'Invalid login credentials') }
}
