// One `npm run edge` stack for the whole run, started beside the test cluster: the suites that
// prove what holds on Supabase (many isolates, no stickiness, PgBouncer in transaction mode) share
// it, so the suite pays its start once. A suite that needs other platform settings (recycling,
// kills) starts its own with `startEdgeStack`.
import type { TestProject } from 'vitest/node'
import { startEdgeStack } from '../../tools/edge/stack.ts'
import { EDGE_TEST_ENV, EDGE_TEST_ISOLATES, EDGE_TEST_KEY_IDS } from './edge-env.ts'
import { keySetOf, makeSigningKey, startJwksServer, type PortableSigningKey } from './jwks.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared edge stack: gateway (functions + dashboard), PostgreSQL direct, PgBouncer's console. */
    edge: { gatewayUrl: string; directUrl: string; poolerUrl: string; poolerAdminUrl: string }
    /** The project's signing keys (private halves) and its stand-in Auth origin (SUPABASE_URL). */
    edgeKeys: { inline: PortableSigningKey; published: PortableSigningKey; authOrigin: string }
  }
}

export default async function setup(project: TestProject) {
  const lines: string[] = []
  const [inline, published] = await Promise.all([
    makeSigningKey('ES256', EDGE_TEST_KEY_IDS.inline), makeSigningKey('RS256', EDGE_TEST_KEY_IDS.published),
  ])
  const auth = await startJwksServer(keySetOf([inline, published]))
  const stack = await startEdgeStack({
    isolates: EDGE_TEST_ISOLATES,
    wallClockMs: 0,
    env: { ...EDGE_TEST_ENV, SUPABASE_URL: auth.origin, SUPABASE_JWKS: JSON.stringify(keySetOf([inline])) },
    log: (line) => { lines.push(line) },
  }).catch(async (err: Error) => {
    await auth.stop()
    throw new Error(`the shared edge stack did not start: ${err.message}\n${lines.join('\n')}`)
  })
  project.provide('edge', {
    gatewayUrl: stack.gatewayUrl, directUrl: stack.directUrl, poolerUrl: stack.poolerUrl, poolerAdminUrl: stack.poolerAdminUrl,
  })
  const portable = ({ alg, kid, key }: PortableSigningKey): PortableSigningKey => ({ alg, kid, key })
  project.provide('edgeKeys', { inline: portable(inline), published: portable(published), authOrigin: auth.origin })
  return async () => {
    await stack.stop()
    await auth.stop()
  }
}
