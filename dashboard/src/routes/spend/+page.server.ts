import { readTelemetry } from '$lib/server/db'
import { knownModels } from '$lib/server/overview'
import { SPEND_RANGE, pageQuery } from '$lib/server/params'
import { spend } from '$lib/server/spend'
import type { PageServerLoad } from './$types'

export const load: PageServerLoad = async ({ url }) => {
  const { range, filters } = pageQuery(url, SPEND_RANGE)
  const [data, models] = await Promise.all([spend(readTelemetry, range, range.step_ms, filters), readTelemetry(knownModels)])
  return {
    spend: data,
    models,
    filters,
    range: { preset: range.preset, from: range.from.toISOString(), to: range.to.toISOString(), step_ms: range.step_ms },
  }
}
