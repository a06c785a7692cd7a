import { error, redirect } from '@sveltejs/kit'
import { missingSides, readPair, readPairOfTraces, SIDES, type Pair } from '$lib/server/compare'
import { readTelemetry } from '$lib/server/db'
import type { PageServerLoad } from './$types'

/** /compare?a=&b=: without both ids, the form to give them; with them, both traces. */
export const load: PageServerLoad = async ({ url }) => {
  const given = Object.fromEntries(SIDES.map((side) => [side, url.searchParams.get(side)?.trim() ?? ''])) as Pair<string>
  if (!given.a || !given.b) return { given, traces: null }
  const ids = readPair(url.searchParams, true)
  if (!ids.ok) error(400, { message: ids.message, code: 'invalid_request' })
  // A traceparent or an uppercase copy is a good link to the stored ids.
  if (ids.value.a !== given.a || ids.value.b !== given.b) redirect(308, `/compare?a=${ids.value.a}&b=${ids.value.b}`)
  const traces = await readTelemetry((sql) => readPairOfTraces(sql, ids.value))
  const missing = missingSides(traces)
  if (missing.length) {
    error(404, {
      message: `No spans are stored for ${missing.map((side) => `${side} = ${ids.value[side]}`).join(' or ')}. Spans are written in batches and may take about a second to arrive — reload in a moment.`,
      code: 'not_found',
    })
  }
  return { given, traces: { a: traces.a!, b: traces.b! } }
}
