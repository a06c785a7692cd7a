import { error } from '@sveltejs/kit'
import { readTelemetry } from '$lib/server/db'
import { getSession } from '$lib/server/sessions'
import { LOOKBACK_DAYS } from '$lib/server/traces'
import { isUuid } from '$lib/trace-id'
import type { PageServerLoad } from './$types'

export const load: PageServerLoad = async ({ params }) => {
  const sessionId = params.session_id
  if (!isUuid(sessionId)) {
    error(400, { message: `"${sessionId}" is not a session id: expected a UUID.`, code: 'invalid_request' })
  }
  const session = await readTelemetry((sql) => getSession(sql, sessionId))
  if (!session) {
    error(404, {
      message: `No request of the last ${LOOKBACK_DAYS} days carried the session id ${sessionId}. Spans are written in batches and may take about a second to arrive.`,
      code: 'not_found',
    })
  }
  return { session }
}
