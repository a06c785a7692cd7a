import { json } from '@sveltejs/kit'
import { apiError } from '$lib/server/api'
import { writeAsDashboard } from '$lib/server/db'
import { jsonRead } from '$lib/server/respond'
import { listViews, saveView, viewName, viewQuery } from '$lib/server/views'
import type { RequestHandler } from './$types'

/** GET /api/views: the streams explorer's saved views, by name. */
export const GET: RequestHandler = () => jsonRead(async (sql) => ({ views: await listViews(sql) }))

/**
 * POST /api/views {"name", "query"}: saves an explorer query string (with or without `?`; the
 * page cursor is dropped) under a name, recorded as saved by the session's name; a name already
 * taken is that view saved again. Operators only (hooks.server.ts refuses viewers). 201 {view}.
 */
export const POST: RequestHandler = async ({ request, locals }) => {
  if (!/^application\/json\b/i.test(request.headers.get('content-type') ?? '')) {
    return apiError('invalid_request', 'send application/json: {"name": "…", "query": "range=1h&status=error"}')
  }
  const body = await request.json().catch(() => null) as { name?: unknown; query?: unknown } | null
  const name = viewName(body?.name)
  if (!name.ok) return apiError('invalid_request', name.message)
  if (typeof body?.query !== 'string') return apiError('invalid_request', 'query must be a string: the explorer\'s query string')
  const query = viewQuery(body.query)
  if (!query.ok) return apiError('invalid_request', `query: ${query.message}`)
  try {
    const view = await writeAsDashboard((sql) => saveView(sql, name.value, query.value, locals.operatorName ?? 'operator'))
    return json({ view }, { status: 201 })
  } catch (err) {
    return apiError('internal_error', `the view was not saved: ${(err as Error).message}`)
  }
}
