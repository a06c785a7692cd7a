import { createLocalJWKSet, createRemoteJWKSet, errors, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose'

type RemoteJWKSet = ReturnType<typeof createRemoteJWKSet>

// One key set per URL per process (isolate): jose caches the fetched keys inside it
// (refetching on an unknown `kid`, at most once per cooldown), so every verifier
// built in this process shares one fetch instead of one per request or per handler.
const sets = new Map<string, RemoteJWKSet>()

export function remoteJwks(url: string): RemoteJWKSet {
  let set = sets.get(url)
  if (!set) {
    set = createRemoteJWKSet(new URL(url), { timeoutDuration: 5_000, cooldownDuration: 30_000, cacheMaxAge: 600_000 })
    sets.set(url, set)
  }
  return set
}

/**
 * The project's signing keys: the key set handed in (SUPABASE_JWKS) answers without a fetch; a
 * token whose key it lacks (one added since the isolate started) is looked up at the URL.
 */
export function projectKeySet(inline: JSONWebKeySet | null | undefined, url: string): JWTVerifyGetKey | undefined {
  const local = inline ? createLocalJWKSet(inline) : undefined
  const remote = url ? remoteJwks(url) : undefined
  if (!local || !remote) return local ?? remote
  return async (header, token) => {
    try {
      return await local(header, token)
    } catch (err) {
      if (err instanceof errors.JWKSNoMatchingKey) return remote(header, token)
      throw err
    }
  }
}
