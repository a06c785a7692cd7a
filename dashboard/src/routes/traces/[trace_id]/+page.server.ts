import { error, redirect } from '@sveltejs/kit'
import { readTelemetry } from '$lib/server/db'
import { getTrace } from '$lib/server/traces'
import { isTraceId } from '$lib/trace-id'
import type { PageServerLoad } from './$types'

export const load: PageServerLoad = async ({ params }) => {
  const traceId = params.trace_id
  if (!isTraceId(traceId)) {
    // Ids are stored lowercase; an uppercase copy of a good id is still a good link.
    if (isTraceId(traceId.toLowerCase())) redirect(308, `/traces/${traceId.toLowerCase()}`)
    error(400, {
      message: `"${traceId}" is not a trace id: expected 32 lowercase hex digits.`,
      code: 'invalid_request',
      trace_id: traceId,
    })
  }
  const trace = await readTelemetry((sql) => getTrace(sql, traceId))
  if (!trace) {
    error(404, {
      message: `Trace ${traceId} was not found. Spans are written in batches and may take about a second to arrive — reload in a moment.`,
      code: 'not_found',
      trace_id: traceId,
    })
  }
  return { trace }
}
