import { listAlertRules, saveAlertRule } from '$lib/server/alert-rules'
import { jsonRead } from '$lib/server/respond'
import { answered, jsonBody, ruleWritten } from './body'
import type { RequestHandler } from './$types'

/** GET /api/alert-rules: every rule with its state. */
export const GET: RequestHandler = () => jsonRead(async (sql) => ({ rules: await listAlertRules(sql) }))

/** POST /api/alert-rules {name, metric, threshold, window_minutes, …}: a new rule (operators only: hooks.server.ts). */
export const POST: RequestHandler = ({ request, locals }) => answered(async () => {
  const read = await jsonBody(request)
  if ('refused' in read) return read.refused
  return ruleWritten(await saveAlertRule(null, read.body, locals.operatorName ?? 'operator'), 201)
})
