import { error, redirect } from '@sveltejs/kit'
import { parseTraceInput } from '$lib/trace-id'
import type { PageServerLoad } from './$types'

/** The lookup box's no-JavaScript path: /traces?id=<trace id or traceparent>. */
export const load: PageServerLoad = ({ url }) => {
  const input = url.searchParams.get('id') ?? ''
  const traceId = parseTraceInput(input)
  if (!traceId) {
    error(400, {
      message: input
        ? `"${input.trim()}" is neither a trace id (32 hex digits) nor a traceparent (00-<trace id>-<span id>-<flags>).`
        : 'Enter a trace id or a traceparent.',
      code: 'invalid_request',
    })
  }
  redirect(303, `/traces/${traceId}`)
}
