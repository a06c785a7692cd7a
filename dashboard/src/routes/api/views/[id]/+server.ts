import { json } from '@sveltejs/kit'
import { apiError } from '$lib/server/api'
import { writeAsDashboard } from '$lib/server/db'
import { deleteView } from '$lib/server/views'
import type { RequestHandler } from './$types'

/** DELETE /api/views/:id: removes a saved view, for every operator. Operators only. */
export const DELETE: RequestHandler = async ({ params }) => {
  if (!/^[1-9]\d{0,17}$/.test(params.id)) return apiError('invalid_request', `id must be a saved view's number, got "${params.id}"`)
  try {
    const deleted = await writeAsDashboard((sql) => deleteView(sql, params.id))
    return deleted ? json({ deleted: true }) : apiError('not_found', `no saved view ${params.id}`)
  } catch (err) {
    return apiError('internal_error', `the view was not deleted: ${(err as Error).message}`)
  }
}
