// Alert rules as the dashboard reads and edits them (telemetry.alert_rules; the role may write that
// table and only that one of the alert tables). Shared by /api/alert-rules and the /alerts page.
import { parseAlertRule, type AlertRule, type AlertRuleInput } from '../../../../shared/alert-rules.ts'
import type { AlertRuleView } from '../types.ts'
import { readTelemetry, writeAsDashboard } from './db.ts'
import type { Db } from './rollups.ts'

interface Row extends Omit<AlertRule, 'created_at' | 'updated_at'> {
  created_at: Date
  updated_at: Date
  state_firing: number
  state_value: number | null
  state_requests: number | null
  since: Date | null
  evaluated_at: Date | null
  resolved_at: Date | null
}

function toView({ state_firing, state_value, state_requests, since, evaluated_at, resolved_at, ...rule }: Row): AlertRuleView {
  // A rule that breaches again within its cooldown stays quiet until then.
  const cooling = resolved_at ? new Date(resolved_at.getTime() + rule.cooldown_minutes * 60_000) : null
  return {
    ...rule,
    created_at: rule.created_at.toISOString(),
    updated_at: rule.updated_at.toISOString(),
    state: {
      firing: state_firing, value: state_value, requests: state_requests,
      since: since?.toISOString() ?? null, evaluated_at: evaluated_at?.toISOString() ?? null,
      cooling_until: cooling && evaluated_at && cooling > evaluated_at ? cooling.toISOString() : null,
    },
  }
}

/** Every rule with its state: how many subjects fire, and the whole service's last value. */
export async function listAlertRules(sql: Db, id?: number): Promise<AlertRuleView[]> {
  const rows = await sql<Row[]>`
    select r.id, r.name, r.metric, r.threshold, r.window_minutes, r.min_requests, r.cooldown_minutes, r.enabled,
           r.created_at, r.updated_at, r.updated_by,
           (select count(*)::int from telemetry.alert_state f where f.rule_id = r.id and f.firing) as state_firing,
           g.value as state_value, g.requests as state_requests, g.since, g.evaluated_at,
           (select max(c.resolved_at) from telemetry.alert_state c where c.rule_id = r.id) as resolved_at
    from telemetry.alert_rules r
    left join telemetry.alert_state g on g.rule_id = r.id and g.subject = ''
    where ${id === undefined ? sql`true` : sql`r.id = ${id}`}
    order by r.id`
  return rows.map(toView)
}

export type RuleWrite =
  | { ok: true; rule: AlertRuleView | null }
  | { ok: false; code: 'invalid_request' | 'not_found'; message: string; problems: string[] }

const invalid = (problems: string[]): RuleWrite => ({ ok: false, code: 'invalid_request', message: `the rule is not valid: ${problems.join('; ')}`, problems })

/** A unique or check violation is the caller's mistake, said as one; anything else is thrown. */
function refused(err: unknown, rule: AlertRuleInput): RuleWrite {
  const code = (err as { code?: string }).code
  if (code === '23505') return invalid([`a rule named ${JSON.stringify(rule.name)} already exists`])
  if (code === '23514') return invalid([(err as Error).message])
  throw err
}

/** Creates (id null) or replaces a rule from a request body; `by` is recorded as updated_by. */
export async function saveAlertRule(id: number | null, body: unknown, by: string): Promise<RuleWrite> {
  const parsed = parseAlertRule(body)
  if (!parsed.ok) return invalid(parsed.problems)
  const row = { ...parsed.rule, updated_by: by }
  try {
    const saved = await writeAsDashboard(async (sql) => {
      const [r] = id === null
        ? await sql<{ id: number }[]>`insert into telemetry.alert_rules ${sql(row)} returning id`
        : await sql<{ id: number }[]>`update telemetry.alert_rules set ${sql(row)}, updated_at = now() where id = ${id} returning id`
      return r ? (await listAlertRules(sql, r.id))[0] ?? null : null
    })
    if (!saved) return { ok: false, code: 'not_found', message: `no alert rule ${id}`, problems: [] }
    return { ok: true, rule: saved }
  } catch (err) {
    return refused(err, parsed.rule)
  }
}

/** Deletes a rule; one that was firing gets its resolution (a trigger writes it). */
export async function deleteAlertRule(id: number): Promise<boolean> {
  const gone = await writeAsDashboard((sql) => sql`delete from telemetry.alert_rules where id = ${id} returning id`)
  return gone.length > 0
}

export function readAlertRule(id: number): Promise<AlertRuleView | null> {
  return readTelemetry(async (sql) => (await listAlertRules(sql, id))[0] ?? null)
}

/** A rule id from a path or a form: a positive integer, else null. */
export function ruleId(raw: unknown): number | null {
  const n = typeof raw === 'string' && /^[1-9]\d{0,9}$/.test(raw) ? Number(raw) : NaN
  return Number.isSafeInteger(n) && n <= 2 ** 31 - 1 ? n : null
}

export type { AlertRule }
