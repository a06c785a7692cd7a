import { error } from '@sveltejs/kit'
import { readTelemetry } from '$lib/server/db'
import { knownModels } from '$lib/server/overview'
import { EXPLORER_RANGE, pageQuery } from '$lib/server/params'
import { listStreams } from '$lib/server/explorer'
import { readPaging } from '$lib/server/paging'
import type { PageServerLoad } from './$types'

export const load: PageServerLoad = async ({ url }) => {
  const { range, filters } = pageQuery(url, EXPLORER_RANGE)
  const paging = readPaging(url.searchParams)
  if (!paging.ok) error(400, { message: paging.message, code: 'invalid_request' })
  const [page, models] = await readTelemetry((sql) =>
    Promise.all([listStreams(sql, { window: range, filters, ...paging.value }), knownModels(sql)]),
  )
  return {
    page,
    models,
    filters,
    sort: { by: paging.value.sort, dir: paging.value.dir },
    limit: paging.value.limit,
    paged: Boolean(paging.value.after || paging.value.before),
    range: { preset: range.preset, from: range.from.toISOString(), to: range.to.toISOString() },
  }
}
