import { json } from '@sveltejs/kit'
import { apiError } from '$lib/server/api'
import { missingSides, readPair, readPairOfTraces } from '$lib/server/compare'
import { DatabaseError, readTelemetry } from '$lib/server/db'
import type { Comparison } from '$lib/types'
import { differences } from '../../compare/differences'
import type { RequestHandler } from './$types'

/** GET /api/compare?a=<trace id>&b=<trace id>: both traces as /api/traces gives them, and their differences. */
export const GET: RequestHandler = async ({ url }) => {
  const ids = readPair(url.searchParams)
  if (!ids.ok) return apiError('invalid_request', ids.message)
  try {
    const traces = await readTelemetry((sql) => readPairOfTraces(sql, ids.value))
    const missing = missingSides(traces)
    if (missing.length) {
      return apiError('not_found', `no spans stored for ${missing.map((side) => `${side} (${ids.value[side]})`).join(' and ')}`, { missing: missing.join(',') })
    }
    const a = traces.a!
    const b = traces.b!
    const body: Comparison = { a, b, differences: differences(a, b) }
    return json(body)
  } catch (err) {
    if (err instanceof DatabaseError) return apiError('internal_error', err.message)
    throw err
  }
}
