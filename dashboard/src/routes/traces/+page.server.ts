import { error, redirect } from '@sveltejs/kit'
import { readTelemetry } from '$lib/server/db'
import { traceOfMessage } from '$lib/server/traces'
import { parseLookup } from '$lib/trace-id'
import type { PageServerLoad } from './$types'

/** The lookup box's server side: /traces?id=<trace id, traceparent or message id>. */
export const load: PageServerLoad = async ({ url }) => {
  const input = url.searchParams.get('id') ?? ''
  const target = parseLookup(input)
  if (!target) {
    error(400, {
      message: input
        ? `"${input.trim()}" is neither a trace id (32 hex digits), a traceparent (00-<trace id>-<span id>-<flags>) nor a message id (a UUID).`
        : 'Enter a trace id, a traceparent or a message id.',
      code: 'invalid_request',
    })
  }
  if (target.kind === 'trace') redirect(303, `/traces/${target.trace_id}`)
  const traceId = await readTelemetry((sql) => traceOfMessage(sql, target.message_id))
  if (!traceId) {
    error(404, { message: `No stored message has the id ${target.message_id} (or it was stored without a trace id).`, code: 'not_found' })
  }
  redirect(303, `/traces/${traceId}`)
}
