import { json } from '@sveltejs/kit'
import { apiError } from '$lib/server/api'
import { DatabaseError, readTelemetry } from '$lib/server/db'
import { traceOfMessage } from '$lib/server/traces'
import { parseLookup } from '$lib/trace-id'
import type { RequestHandler } from './$types'

/** GET /api/lookup?q=<trace id | traceparent | message id> → {trace_id, via}. */
export const GET: RequestHandler = async ({ url }) => {
  const input = url.searchParams.get('q') ?? ''
  const target = parseLookup(input)
  if (!target) return apiError('invalid_request', 'q must be a trace id (32 hex), a traceparent or a message id (UUID)')
  if (target.kind === 'trace') return json({ trace_id: target.trace_id, via: 'trace' })
  try {
    const traceId = await readTelemetry((sql) => traceOfMessage(sql, target.message_id))
    if (!traceId) return apiError('not_found', `no stored message ${target.message_id} with a trace id`)
    return json({ trace_id: traceId, via: 'message' })
  } catch (err) {
    if (err instanceof DatabaseError) return apiError('internal_error', err.message)
    throw err
  }
}
