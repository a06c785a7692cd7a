import { json } from '@sveltejs/kit'
import { apiError } from '$lib/server/api'
import { DatabaseError, readTelemetry } from '$lib/server/db'
import { getSession } from '$lib/server/sessions'
import { LOOKBACK_DAYS } from '$lib/server/traces'
import { isUuid } from '$lib/trace-id'
import type { RequestHandler } from './$types'

/** GET /api/sessions/<session_id>: the session's turns in start order, each with its trace id. */
export const GET: RequestHandler = async ({ params }) => {
  const sessionId = params.session_id
  if (!isUuid(sessionId)) return apiError('invalid_request', 'session_id must be a UUID', { session_id: sessionId })
  try {
    const session = await readTelemetry((sql) => getSession(sql, sessionId))
    if (!session) return apiError('not_found', `no request of the last ${LOOKBACK_DAYS} days carried this session id`, { session_id: sessionId })
    return json(session)
  } catch (err) {
    if (err instanceof DatabaseError) return apiError('internal_error', err.message, { session_id: sessionId })
    throw err
  }
}
