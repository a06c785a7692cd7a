import { apiError } from '$lib/server/api'
import { toCsv } from '$lib/csv'
import { DatabaseError, readTelemetry } from '$lib/server/db'
import { SPEND_RANGE, readQuery } from '$lib/server/params'
import { spendByDay } from '$lib/server/spend'
import type { RequestHandler } from './$types'

/** GET /api/spend/daily.csv?range=…: one row per UTC day and model, for a spreadsheet. */
export const GET: RequestHandler = async ({ url }) => {
  const q = readQuery(url, SPEND_RANGE)
  if (!q.ok) return apiError('invalid_request', q.message)
  try {
    const days = await readTelemetry((sql) => spendByDay(sql, q.range, q.filters))
    const csv = toCsv(
      ['day', 'model', 'requests', 'input_tokens', 'output_tokens', 'cost_usd'],
      days.map((d) => [d.day, d.model, d.requests, d.input_tokens, d.output_tokens, d.cost_usd.toFixed(6)]),
    )
    const name = `streamscope-spend-${q.range.from.toISOString().slice(0, 10)}-to-${q.range.to.toISOString().slice(0, 10)}.csv`
    return new Response(csv, {
      headers: { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="${name}"` },
    })
  } catch (err) {
    if (err instanceof DatabaseError) return apiError('internal_error', err.message)
    throw err
  }
}
