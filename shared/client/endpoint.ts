// Where the functions live and which token a request carries: from a supabase-js client (the
// thing `supabase.functions.invoke` cannot do for a stream) or from a plain URL + token getter.
import type { EndpointOptions, SupabaseLike } from './types.ts'

export interface Endpoint {
  /** e.g. http://127.0.0.1:54321/functions/v1/chat */
  functionUrl(name: string): string
  /** Asked before every attempt, so a token refreshed meanwhile is the one sent. */
  headers(): Promise<Record<string, string>>
}

/** The runtime shape of supabase-js 2.x's SupabaseClient beyond its public typings. */
interface SupabaseRuntime extends SupabaseLike {
  functionsUrl?: URL | string
  functions?: { url?: string }
  supabaseUrl?: string
  supabaseKey?: string
  /** Set when the client was built with the `accessToken` option (third-party auth). */
  accessToken?: () => Promise<string | null>
}

const trimSlash = (s: string) => s.replace(/\/+$/, '')

/** The functions base URL supabase-js itself uses (`new URL('functions/v1', supabaseUrl)`). */
export function supabaseFunctionsUrl(supabase: SupabaseLike): string {
  const s = supabase as SupabaseRuntime
  const url = s.functionsUrl ?? s.functions?.url ?? (s.supabaseUrl ? new URL('functions/v1', `${trimSlash(s.supabaseUrl)}/`) : undefined)
  if (!url) throw new TypeError('the Supabase client has no functions URL (expected a supabase-js 2.x client)')
  return trimSlash(String(url))
}

export function toEndpoint(o: EndpointOptions): Endpoint {
  if (o.supabase) {
    const s = o.supabase as SupabaseRuntime
    const base = supabaseFunctionsUrl(s)
    return {
      functionUrl: (name) => `${base}/${name}`,
      async headers(): Promise<Record<string, string>> {
        // As supabase-js's own fetch does: the session's token, or the anon key when signed out
        // (the function then answers 401 with a trace id, which beats failing without asking).
        let token: string | null | undefined
        if (typeof s.accessToken === 'function') token = await s.accessToken()
        else token = (await s.auth.getSession()).data.session?.access_token
        token ||= s.supabaseKey
        return {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(s.supabaseKey ? { apikey: s.supabaseKey } : {}),
        }
      },
    }
  }
  const base = `${trimSlash(o.url)}/functions/v1`
  const getToken = o.getToken
  return {
    functionUrl: (name) => `${base}/${name}`,
    async headers(): Promise<Record<string, string>> {
      const token = getToken ? await getToken() : null
      return token ? { authorization: `Bearer ${token}` } : {}
    },
  }
}
