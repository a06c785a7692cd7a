import { fail } from '@sveltejs/kit'
import { dashboardConfig } from '$shared/dashboard-handoff'
import { deleteAlertRule, listAlertRules, ruleId, saveAlertRule } from '$lib/server/alert-rules'
import { readTelemetry } from '$lib/server/db'
import type { Actions, PageServerLoad } from './$types'

export const load: PageServerLoad = async ({ url }) => {
  const { webhookUrl, webhookFormat, intervalMs } = dashboardConfig().alerts
  const rules = await readTelemetry(listAlertRules)
  const edit = url.searchParams.get('edit')
  return {
    rules,
    /** The rule the form edits (`?edit=<id>`); none: the form makes a new one. */
    editing: rules.find((r) => String(r.id) === edit) ?? null,
    webhook: webhookUrl ? webhookFormat : null,
    intervalSeconds: Math.round(intervalMs / 1000),
  }
}

/** The form's fields as the API's JSON would carry them: numbers as numbers, a blank as left out. */
function formRule(form: FormData): Record<string, unknown> {
  const text = (key: string) => {
    const v = form.get(key)
    return typeof v === 'string' ? v : undefined
  }
  const num = (key: string) => {
    const v = text(key)?.trim()
    return v === undefined || v === '' ? undefined : Number(v)
  }
  return {
    name: text('name'), metric: text('metric'), threshold: num('threshold'), window_minutes: num('window_minutes'),
    min_requests: num('min_requests'), cooldown_minutes: num('cooldown_minutes'), enabled: form.get('enabled') === 'on',
  }
}

export const actions: Actions = {
  /** A new rule (no id) or an edited one; viewers are refused by hooks.server.ts. */
  save: async ({ request, locals }) => {
    const form = await request.formData()
    const raw = form.get('id')
    const id = raw ? ruleId(raw) : null
    if (raw && id === null) return fail(400, { problems: ['the rule id is not one'], values: formRule(form) })
    try {
      const saved = await saveAlertRule(id, formRule(form), locals.operatorName ?? 'operator')
      if (!saved.ok) return fail(saved.code === 'not_found' ? 404 : 400, { problems: saved.problems.length ? saved.problems : [saved.message], values: formRule(form) })
      return { saved: saved.rule?.name ?? '' }
    } catch (err) {
      console.error(`[dashboard] alert rule not saved: ${(err as Error).message}`)
      return fail(500, { problems: [`The rule was not saved: ${(err as Error).message}`], values: formRule(form) })
    }
  },
  delete: async ({ request }) => {
    const id = ruleId((await request.formData()).get('id'))
    if (id === null) return fail(400, { problems: ['the rule id is not one'] })
    try {
      if (!(await deleteAlertRule(id))) return fail(404, { problems: [`no alert rule ${id}`] })
      return { deleted: id }
    } catch (err) {
      console.error(`[dashboard] alert rule not deleted: ${(err as Error).message}`)
      return fail(500, { problems: [`The rule was not deleted: ${(err as Error).message}`] })
    }
  },
}
