import { json } from '@sveltejs/kit'
import { apiError } from '$lib/server/api'
import type { RuleWrite } from '$lib/server/alert-rules'

/**
 * A JSON body, or the 400 that says why there is none. JSON only: a browser on another site cannot
 * send it without a CORS preflight, which is never granted.
 */
export async function jsonBody(request: Request): Promise<{ body: unknown } | { refused: Response }> {
  if (!/^application\/json\b/i.test(request.headers.get('content-type') ?? '')) {
    return { refused: apiError('invalid_request', 'send the rule as application/json') }
  }
  try {
    return { body: await request.json() }
  } catch {
    return { refused: apiError('invalid_request', 'the body is not JSON') }
  }
}

/** The saved rule (201 when created), or the API's error listing what is wrong. */
export function ruleWritten(result: RuleWrite, status = 200): Response {
  return result.ok ? json({ rule: result.rule }, { status }) : apiError(result.code, result.message)
}

/** A failed read or write of the rules as the API's 500, with the database's reason. */
export async function answered(run: () => Promise<Response>): Promise<Response> {
  try {
    return await run()
  } catch (err) {
    return apiError('internal_error', `alert rules: ${(err as Error).message}`)
  }
}
