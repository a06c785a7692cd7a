// A test file's view of the shared edge stack (tests/support/edge-setup.ts).
import postgres, { type Sql } from 'postgres'
import { inject } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { EDGE_TEST_ENV, EDGE_TEST_SECRET } from './edge-env.ts'

export function edgeStack() {
  const edge = inject('edge')
  const keys = inject('edgeKeys')
  return {
    ...edge,
    operatorToken: EDGE_TEST_ENV.OPERATOR_TOKEN,
    /** A user's token as the functions verify it on this stack (the legacy HS256 secret). */
    userToken: (userId: string) => signUserToken(EDGE_TEST_SECRET, userId),
    /** Signed with the project's signing keys: `inline` is in the isolates' SUPABASE_JWKS, `published` only at the endpoint. */
    signingKeys: { inline: keys.inline, published: keys.published },
    /** The stand-in Auth (SUPABASE_URL); `GET /_fetches` counts reads of its JWKS. */
    authOrigin: keys.authOrigin,
    /** PostgreSQL itself, for reading what the functions stored. */
    direct: (): Sql => postgres(edge.directUrl, { max: 2, onnotice: () => {} }),
  }
}
