// A test file's view of the shared edge stack (tests/support/edge-setup.ts).
import postgres, { type Sql } from 'postgres'
import { inject } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { EDGE_TEST_ENV, EDGE_TEST_SECRET } from './edge-env.ts'

export function edgeStack() {
  const edge = inject('edge')
  return {
    ...edge,
    operatorToken: EDGE_TEST_ENV.OPERATOR_TOKEN,
    /** A user's token as the functions verify it on this stack. */
    userToken: (userId: string) => signUserToken(EDGE_TEST_SECRET, userId),
    /** PostgreSQL itself, for reading what the functions stored. */
    direct: (): Sql => postgres(edge.directUrl, { max: 2, onnotice: () => {} }),
  }
}
