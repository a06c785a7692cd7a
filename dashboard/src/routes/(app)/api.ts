/**
 * Where the functions live. `?api=http://host:port` points the page at another origin (the
 * functions must then answer CORS) or at a proxy in front of the same server; by default the
 * page's own origin, as when the local server serves it.
 */
export function apiBase(url: URL): string {
  const api = url.searchParams.get('api')
  if (api) {
    try {
      const u = new URL(api)
      if (u.protocol === 'http:' || u.protocol === 'https:') return u.origin
    } catch {
      // fall through to the page's origin
    }
  }
  return url.origin
}

/** Links keep `?api=` so moving between the apps stays on the same server. */
export function withApi(path: string, url: URL): string {
  const api = url.searchParams.get('api')
  return api ? `${path}?api=${encodeURIComponent(api)}` : path
}
