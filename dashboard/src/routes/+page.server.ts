import { readTelemetry } from '$lib/server/db'
import { overviewPage } from '$lib/server/overview'
import { OVERVIEW_RANGE, pageQuery } from '$lib/server/params'
import type { PageServerLoad } from './$types'

export const load: PageServerLoad = async ({ url }) => {
  const { range, filters } = pageQuery(url, OVERVIEW_RANGE)
  const { overview, models, recent } = await overviewPage(readTelemetry, range, range.step_ms, filters)
  return {
    overview,
    models,
    recent,
    filters,
    range: { preset: range.preset, from: range.from.toISOString(), to: range.to.toISOString(), step_ms: overview.step_ms },
  }
}
