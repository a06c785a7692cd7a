// A stand-in for Supabase Auth's key endpoint: real jose key pairs, their public halves served as a
// JWKS at SUPABASE_URL's path, and what the tests need to sign user tokens with the private halves.
import { createServer, type Server } from 'node:http'
import { exportJWK, generateKeyPair, type JSONWebKeySet } from 'jose'
import type { SigningKey } from '../../shared/auth/jwt.ts'
import { JWKS_PATH } from '../../shared/auth/keys.ts'

/** A signing key whose private half is a JWK, so it can be handed to another process (provide/inject). */
export type PortableSigningKey = SigningKey & { key: Exclude<SigningKey['key'], CryptoKey> }

export async function makeSigningKey(alg: SigningKey['alg'], kid: string): Promise<PortableSigningKey & { publicJwk: JSONWebKeySet['keys'][number] }> {
  const pair = await generateKeyPair(alg, { extractable: true })
  const publicJwk = { ...await exportJWK(pair.publicKey), kid, alg, use: 'sig' }
  return { alg, kid, key: await exportJWK(pair.privateKey), publicJwk }
}

export const keySetOf = (keys: { publicJwk: JSONWebKeySet['keys'][number] }[]): JSONWebKeySet => ({ keys: keys.map((k) => k.publicJwk) })

export interface JwksServer {
  /** What SUPABASE_URL is for the functions: the JWKS is at `${origin}${JWKS_PATH}`. */
  origin: string
  /** GETs of the key set so far. */
  fetches(): number
  stop(): Promise<void>
}

/** Serves the key set at JWKS_PATH; `GET /_fetches` tells another process how often it was read. */
export async function startJwksServer(keys: JSONWebKeySet): Promise<JwksServer> {
  let fetches = 0
  const body = JSON.stringify(keys)
  const server: Server = createServer((req, res) => {
    if (req.url === JWKS_PATH) {
      fetches++
      return void res.writeHead(200, { 'content-type': 'application/json' }).end(body)
    }
    if (req.url === '/_fetches') return void res.writeHead(200, { 'content-type': 'application/json' }).end(String(fetches))
    res.writeHead(404).end()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  return {
    origin: `http://127.0.0.1:${port}`,
    fetches: () => fetches,
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    }),
  }
}
