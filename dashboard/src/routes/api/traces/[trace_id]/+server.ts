import { json } from '@sveltejs/kit'
import { apiError } from '$lib/server/api'
import { DatabaseError, readTelemetry } from '$lib/server/db'
import { getTrace } from '$lib/server/traces'
import { isTraceId } from '$lib/trace-id'
import type { RequestHandler } from './$types'

/** GET /api/traces/<trace_id>: every span (start order) and log (time order) of one trace. */
export const GET: RequestHandler = async ({ params }) => {
  const traceId = params.trace_id
  if (!isTraceId(traceId)) {
    return apiError('invalid_request', 'trace_id must be 32 lowercase hex characters', { trace_id: traceId })
  }
  try {
    const trace = await readTelemetry((sql) => getTrace(sql, traceId))
    if (!trace) {
      return apiError('not_found', 'no spans stored for this trace (spans may take about a second to arrive)', { trace_id: traceId })
    }
    return json(trace)
  } catch (err) {
    if (err instanceof DatabaseError) return apiError('internal_error', err.message, { trace_id: traceId })
    throw err
  }
}
