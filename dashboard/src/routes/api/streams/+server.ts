import { json } from '@sveltejs/kit'
import { apiError } from '$lib/server/api'
import { DatabaseError, readTelemetry } from '$lib/server/db'
import { lastMinutes, recentStreams } from '$lib/server/streams'
import type { RequestHandler } from './$types'

const MAX_LIMIT = 500

/** GET /api/streams?limit=50: the overview's table, most recent first, from the last hour. */
export const GET: RequestHandler = async ({ url }) => {
  const raw = url.searchParams.get('limit') ?? '50'
  const limit = Number(raw)
  if (!/^\d+$/.test(raw) || limit < 1 || limit > MAX_LIMIT) {
    return apiError('invalid_request', `limit must be an integer in [1, ${MAX_LIMIT}]`)
  }
  const range = lastMinutes(60)
  try {
    const streams = await readTelemetry((sql) => recentStreams(sql, range, limit))
    return json({ from: range.from.toISOString(), to: range.to.toISOString(), streams })
  } catch (err) {
    if (err instanceof DatabaseError) return apiError('internal_error', err.message)
    throw err
  }
}
