// One `npm run edge` stack for the whole run, started beside the test cluster: the suites that
// prove what holds on Supabase (many isolates, no stickiness, PgBouncer in transaction mode) share
// it, so the suite pays its start once. A suite that needs other platform settings (recycling,
// kills) starts its own with `startEdgeStack`.
import type { TestProject } from 'vitest/node'
import { startEdgeStack } from '../../tools/edge/stack.ts'
import { EDGE_TEST_ENV, EDGE_TEST_ISOLATES } from './edge-env.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    /** The shared edge stack: gateway (functions + dashboard), PostgreSQL direct, PgBouncer's console. */
    edge: { gatewayUrl: string; directUrl: string; poolerUrl: string; poolerAdminUrl: string }
  }
}

export default async function setup(project: TestProject) {
  const lines: string[] = []
  const stack = await startEdgeStack({
    isolates: EDGE_TEST_ISOLATES,
    wallClockMs: 0,
    env: EDGE_TEST_ENV,
    log: (line) => { lines.push(line) },
  }).catch((err: Error) => {
    throw new Error(`the shared edge stack did not start: ${err.message}\n${lines.join('\n')}`)
  })
  project.provide('edge', {
    gatewayUrl: stack.gatewayUrl, directUrl: stack.directUrl, poolerUrl: stack.poolerUrl, poolerAdminUrl: stack.poolerAdminUrl,
  })
  return () => stack.stop()
}
