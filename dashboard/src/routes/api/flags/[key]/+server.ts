import { json } from '@sveltejs/kit'
import { apiError } from '$lib/server/api'
import { writeAsDashboard } from '$lib/server/db'
import { TRANSPORT_FLAG, TRANSPORTS, setFlag } from '$lib/server/flags'
import type { RequestHandler } from './$types'

/**
 * POST /api/flags/chat_transport {"value": "sse"|"http"}: the backout switch for scripts,
 * operators only (hooks.server.ts refuses viewers), recorded as changed by the person
 * (e-mail and user id of an account), the name of a shared-token session, or "api token". A browser on another
 * site cannot send this JSON without a CORS preflight, which is never granted.
 */
export const POST: RequestHandler = async ({ params, request, locals }) => {
  if (params.key !== TRANSPORT_FLAG) return apiError('not_found', `no switchable flag ${params.key}`)
  if (!/^application\/json\b/i.test(request.headers.get('content-type') ?? '')) {
    return apiError('invalid_request', 'send application/json: {"value": "sse" | "http"}')
  }
  const body = await request.json().catch(() => null) as { value?: unknown } | null
  const value = body?.value
  if (typeof value !== 'string' || !(TRANSPORTS as readonly string[]).includes(value)) {
    return apiError('invalid_request', `value must be one of ${TRANSPORTS.join(', ')}`)
  }
  try {
    const flag = await writeAsDashboard((sql) => setFlag(sql, TRANSPORT_FLAG, value, locals.operatorName ?? 'operator', locals.identity?.userId ?? null))
    return json(flag)
  } catch (err) {
    console.error(`[dashboard] flag switch failed: ${(err as Error).message}`)
    return apiError('internal_error', `the flag was not changed: ${(err as Error).message}`)
  }
}
