// The shared operator token's minimum strength. The development default is known to
// everyone and only ever meant for a local server; any other token guards real telemetry.
import { DEV_OPERATOR_TOKEN } from '../../../../server/dev-defaults.ts'

export const MIN_OPERATOR_TOKEN_LENGTH = 32

/** Why OPERATOR_TOKEN must not be used, or null. Unset or empty turns the shared token off (accounts only). */
export function operatorTokenProblem(token: string | undefined): string | null {
  if (!token || token === DEV_OPERATOR_TOKEN) return null
  if (token.length < MIN_OPERATOR_TOKEN_LENGTH) {
    return `OPERATOR_TOKEN is ${token.length} characters long; outside development (the default "${DEV_OPERATOR_TOKEN}") ` +
      `it must be at least ${MIN_OPERATOR_TOKEN_LENGTH}. Generate one with: openssl rand -base64 32`
  }
  if (/\s/.test(token)) return 'OPERATOR_TOKEN must not contain spaces or line breaks (it is sent as "Authorization: Bearer <token>")'
  return null
}

/** For a start-up hook or an entry file: stops the process with the reason. */
export function assertOperatorToken(token: string | undefined): void {
  const problem = operatorTokenProblem(token)
  if (problem) throw new Error(problem)
}
