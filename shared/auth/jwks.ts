import { createRemoteJWKSet } from 'jose'

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
