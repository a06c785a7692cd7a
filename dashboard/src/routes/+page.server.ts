import { readTelemetry } from '$lib/server/db'
import { lastMinutes, recentStreams, streamSummary, ttfbPerMinute } from '$lib/server/streams'
import type { PageServerLoad } from './$types'

export const load: PageServerLoad = async () => {
  const range = lastMinutes(60)
  const [streams, ttfb, summary] = await readTelemetry((sql) =>
    Promise.all([recentStreams(sql, range, 50), ttfbPerMinute(sql, range), streamSummary(sql, range)]),
  )
  return { streams, ttfb, summary, from: range.from.toISOString(), to: range.to.toISOString() }
}
