// One origin shaped like a Supabase project for supabase-js: /auth/v1/token answers GoTrue's
// refresh_token grant (minting a new token for the same user, as GoTrue would), and every other
// path is forwarded to the local server. Only what the client tests need; not a GoTrue.
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import { signUserToken } from '../../shared/auth/jwt.ts'

export interface SupabaseGateway {
  url: string
  /** refresh_token grants answered so far. */
  readonly refreshes: number
  /** Authorization headers of the function requests, in order. */
  readonly functionAuth: string[]
  close(): Promise<void>
}

export function toSession(accessToken: string, userId: string, refreshToken: string, expiresAt: number) {
  return {
    access_token: accessToken,
    refresh_token: refreshToken,
    token_type: 'bearer',
    expires_in: Math.max(0, expiresAt - Math.floor(Date.now() / 1000)),
    expires_at: expiresAt,
    user: { id: userId, aud: 'authenticated', role: 'authenticated', email: 'user@example.test', app_metadata: {}, user_metadata: {}, created_at: new Date(0).toISOString() },
  }
}

export async function startSupabaseGateway(target: string, secret: string, users: Map<string, string>): Promise<SupabaseGateway> {
  const upstream = new URL(target)
  let refreshes = 0
  const functionAuth: string[] = []

  async function refresh(req: IncomingMessage, res: ServerResponse) {
    let body = ''
    for await (const chunk of req) body += chunk
    const refreshToken = (JSON.parse(body || '{}') as { refresh_token?: string }).refresh_token ?? ''
    const userId = users.get(refreshToken)
    res.setHeader('content-type', 'application/json')
    if (!userId) {
      res.statusCode = 400
      res.end(JSON.stringify({ code: 400, error_code: 'refresh_token_not_found', msg: 'Invalid Refresh Token: Refresh Token Not Found' }))
      return
    }
    refreshes += 1
    const next = `refresh-${refreshes}-${crypto.randomUUID()}`
    users.set(next, userId)
    res.end(JSON.stringify(toSession(await signUserToken(secret, userId), userId, next, Math.floor(Date.now() / 1000) + 3600)))
  }

  const server = createServer((req, res) => {
    if (req.url?.startsWith('/auth/v1/token')) return void refresh(req, res)
    if (req.url?.startsWith('/functions/')) functionAuth.push(String(req.headers.authorization ?? ''))
    const out = request({ host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers)
      answer.pipe(res)
      // A response cut upstream is cut here too, or the client would wait for the rest forever.
      answer.on('close', () => { if (!answer.complete) res.destroy() })
    })
    out.on('error', () => res.destroy())
    req.pipe(out)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return {
    url: `http://127.0.0.1:${(server.address() as { port: number }).port}`,
    get refreshes() { return refreshes },
    functionAuth,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()) }),
  }
}
