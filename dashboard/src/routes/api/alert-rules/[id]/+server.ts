import { json } from '@sveltejs/kit'
import { apiError } from '$lib/server/api'
import { deleteAlertRule, readAlertRule, ruleId, saveAlertRule } from '$lib/server/alert-rules'
import { answered, jsonBody, ruleWritten } from '../body'
import type { RequestHandler } from './$types'

/** The handler with the path's rule id, or the 400 for one that is not an id. */
const withId = (run: (id: number, event: Parameters<RequestHandler>[0]) => Promise<Response>): RequestHandler => (event) => {
  const id = ruleId(event.params.id)
  if (id === null) return apiError('invalid_request', `a rule id is a positive integer, got ${JSON.stringify(event.params.id)}`)
  return answered(() => run(id, event))
}

/** GET /api/alert-rules/:id: one rule with its state. */
export const GET: RequestHandler = withId(async (id) => {
  const rule = await readAlertRule(id)
  return rule ? json({ rule }) : apiError('not_found', `no alert rule ${id}`)
})

/** PUT /api/alert-rules/:id: the rule replaced by the body (fields left out take their defaults). */
export const PUT: RequestHandler = withId(async (id, { request, locals }) => {
  const read = await jsonBody(request)
  if ('refused' in read) return read.refused
  return ruleWritten(await saveAlertRule(id, read.body, locals.operatorName ?? 'operator'))
})

/** DELETE /api/alert-rules/:id; a rule firing then is resolved (its webhook gets the resolution). */
export const DELETE: RequestHandler = withId(async (id) =>
  (await deleteAlertRule(id)) ? json({ deleted: id }) : apiError('not_found', `no alert rule ${id}`))
