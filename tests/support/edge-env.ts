// The shared edge stack's settings (tests/support/edge-setup.ts), one place for the suites that use
// it to read them from. Rate limits are off because the suites share one clock and one user table.
export const EDGE_TEST_SECRET = 'edge-tests-secret-that-is-at-least-32-characters'
export const EDGE_TEST_ISOLATES = 2
/**
 * The project's signing keys (tests/support/jwks.ts; made by the setup): the isolates get the first
 * in SUPABASE_JWKS, and SUPABASE_URL where the JWKS endpoint serves both, as Supabase hands them
 * over. The HS256 secret above stays accepted beside them.
 */
export const EDGE_TEST_KEY_IDS = { inline: 'edge-inline-es256', published: 'edge-published-rs256' } as const

export const EDGE_TEST_ENV: Record<string, string> = {
  JWT_SECRET: EDGE_TEST_SECRET,
  OPERATOR_TOKEN: 'edge-tests-operator-token-at-least-32-characters',
  RATE_LIMIT_RPM: '0',
  RATE_LIMIT_TPM: '0',
  LOG_CONSOLE_LEVEL: 'error',
  // 20 tokens a second: a chat with max_tokens 5 ends quickly; one without streams for 15 s.
  SIM_TTFB_MS: '5',
  SIM_TOKENS_PER_SECOND: '20',
  SIM_MIN_TOKENS: '300',
  SIM_MAX_TOKENS: '300',
}
