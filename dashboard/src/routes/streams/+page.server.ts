import { error } from '@sveltejs/kit'
import { readTelemetry } from '$lib/server/db'
import { knownModels } from '$lib/server/overview'
import { readExplorerQuery } from '$lib/server/explorer-query'
import { listStreams } from '$lib/server/explorer'
import { listViews } from '$lib/server/views'
import type { PageServerLoad } from './$types'

export const load: PageServerLoad = async ({ url }) => {
  const q = readExplorerQuery(url.searchParams)
  if (!q.ok) error(400, { message: q.message, code: 'invalid_request' })
  const { range, filters, paging } = q.value
  const [page, models, views] = await readTelemetry((sql) =>
    Promise.all([listStreams(sql, { window: range, filters, ...paging }), knownModels(sql), listViews(sql)]),
  )
  return {
    page,
    models,
    views,
    filters,
    sort: { by: paging.sort, dir: paging.dir },
    limit: paging.limit,
    paged: Boolean(paging.after || paging.before),
    range: { preset: range.preset, from: range.from.toISOString(), to: range.to.toISOString() },
  }
}
