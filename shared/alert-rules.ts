// Alert rules as data. The rule's shape, its metrics and their bounds are declared here once: the
// dashboard's API and page validate with parseAlertRule, the page offers ALERT_METRICS, the
// migration's check on `metric` lists the same names (a test holds them together) and
// telemetry.evaluate_alerts computes each. The banner and the webhook word an alert with toAlert,
// so both say the same thing.
import type { ISql } from 'postgres'
import { textProblem } from './well-formed.ts'

interface MetricInfo {
  label: string
  /** share: 0..1 (a threshold is at most 1); ms and usd: above 0. */
  unit: 'share' | 'ms' | 'usd'
  /** What is measured over the window. */
  of: string
  /** Where the dashboard shows it (a user_spend alert adds its user). */
  page: string
}

export const ALERT_METRICS = {
  error_rate: { label: 'Error rate', unit: 'share', of: 'share of requests failing with a server error', page: '/health' },
  ttfb_p95: { label: 'TTFB p95', unit: 'ms', of: 'time to first byte of chat streams, 95th percentile', page: '/?range=1h' },
  itl_p95: { label: 'ITL p95', unit: 'ms', of: 'gaps between consecutive frames of chat streams, 95th percentile', page: '/streams?range=1h' },
  stall_rate: { label: 'Stall rate', unit: 'share', of: 'share of chat streams with a gap over 2 s', page: '/health' },
  spend: { label: 'Spend', unit: 'usd', of: 'model cost of all requests', page: '/spend?range=24h' },
  user_spend: { label: 'Spend per user', unit: 'usd', of: 'model cost of one user (each user alerts on their own)', page: '/spend?range=24h' },
} as const satisfies Record<string, MetricInfo>

export type AlertMetric = keyof typeof ALERT_METRICS
export const ALERT_METRIC_NAMES = Object.keys(ALERT_METRICS) as AlertMetric[]

/** A rule as the API takes it (`telemetry.alert_rules` without its bookkeeping columns). */
export interface AlertRuleInput {
  name: string
  metric: AlertMetric
  /** The value at or above which the rule fires: a share, ms or USD (ALERT_METRICS[metric].unit). */
  threshold: number
  /** The rolling window the metric is computed over, ending now. */
  window_minutes: number
  /** Fewer requests than this in the window never fire (one failure of two is not an outage). */
  min_requests: number
  /** After a resolution, the rule stays quiet this long even if it breaches again. */
  cooldown_minutes: number
  enabled: boolean
}

/** A row of telemetry.alert_rules. */
export interface AlertRule extends AlertRuleInput {
  id: number
  created_at: string
  updated_at: string
  updated_by: string | null
}

/** Integer fields: bounds, and the value a rule gets when it leaves one out (undefined = required). */
export const ALERT_RULE_INTEGERS = {
  window_minutes: { min: 1, max: 10_080, fallback: undefined },
  min_requests: { min: 0, max: 1_000_000_000, fallback: 1 },
  cooldown_minutes: { min: 0, max: 10_080, fallback: 0 },
} as const
const NAME_MAX = 100
/** Written by the database, sent back by a client that PUTs what it read: ignored. */
const READ_ONLY = new Set(['id', 'created_at', 'updated_at', 'updated_by', 'state'])
const FIELDS = new Set(['name', 'metric', 'threshold', 'enabled', ...Object.keys(ALERT_RULE_INTEGERS)])

export type Parsed = { ok: true; rule: AlertRuleInput } | { ok: false; problems: string[] }

function parseName(v: unknown, problems: string[]): string {
  if (typeof v !== 'string' || !v.trim()) problems.push('name is required')
  else if (v.trim().length > NAME_MAX) problems.push(`name must be at most ${NAME_MAX} characters`)
  else if (textProblem(v)) problems.push(`name ${textProblem(v)}`)
  return typeof v === 'string' ? v.trim() : ''
}

function parseThreshold(v: unknown, metric: AlertMetric | undefined, problems: string[]): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) problems.push('threshold must be a number')
  else if (v <= 0) problems.push('threshold must be above 0')
  else if (metric && ALERT_METRICS[metric].unit === 'share' && v > 1) problems.push(`threshold of ${metric} is a share: at most 1 (0.05 = 5%)`)
  return typeof v === 'number' ? v : NaN
}

/** A rule from a JSON body (or a form read into one), or every problem with it. */
export function parseAlertRule(input: unknown): Parsed {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) return { ok: false, problems: ['the rule must be a JSON object'] }
  const body = input as Record<string, unknown>
  const problems: string[] = []
  for (const key of Object.keys(body)) if (!FIELDS.has(key) && !READ_ONLY.has(key)) problems.push(`unknown field ${JSON.stringify(key)}`)
  const name = parseName(body.name, problems)
  const metric = (ALERT_METRIC_NAMES as string[]).includes(body.metric as string) ? body.metric as AlertMetric : undefined
  if (!metric) problems.push(`metric must be one of ${ALERT_METRIC_NAMES.join(', ')}`)
  const threshold = parseThreshold(body.threshold, metric, problems)
  const ints = {} as Record<keyof typeof ALERT_RULE_INTEGERS, number>
  for (const [key, { min, max, fallback }] of Object.entries(ALERT_RULE_INTEGERS) as [keyof typeof ALERT_RULE_INTEGERS, { min: number; max: number; fallback?: number }][]) {
    const v = body[key] ?? fallback
    if (v === undefined) problems.push(`${key} is required`)
    else if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) problems.push(`${key} must be an integer in [${min}, ${max}]`)
    ints[key] = v as number
  }
  const enabled = body.enabled ?? true
  if (typeof enabled !== 'boolean') problems.push('enabled must be true or false')
  if (problems.length || !metric) return { ok: false, problems }
  return { ok: true, rule: { name, metric, threshold, ...ints, enabled: enabled as boolean } }
}

/** The ALERT_* settings: the rules a database gets at its first server start. */
export interface AlertThresholds {
  /** Share of requests (0..1) failing with a server error over the window; null = off. */
  errorRate: number | null
  /** USD spent over a rolling day; null = off. */
  dailySpend: number | null
  /** Error-rate window, minutes. */
  windowMinutes: number
  /** Fewer requests than this in the window never raise the error-rate alert. */
  minRequests: number
}

export function seedRules(t: AlertThresholds): AlertRuleInput[] {
  const rules: AlertRuleInput[] = []
  if (t.errorRate !== null) {
    rules.push({ name: 'Error rate', metric: 'error_rate', threshold: t.errorRate, window_minutes: t.windowMinutes, min_requests: t.minRequests, cooldown_minutes: 0, enabled: true })
  }
  if (t.dailySpend !== null) {
    rules.push({ name: 'Daily spend', metric: 'spend', threshold: t.dailySpend, window_minutes: 1440, min_requests: 0, cooldown_minutes: 0, enabled: true })
  }
  return rules
}

/** Where a webhook's body takes its shape from: the project's JSON, or Slack's `{text, blocks}`. */
export const WEBHOOK_FORMATS = ['json', 'slack'] as const
export type WebhookFormat = (typeof WEBHOOK_FORMATS)[number]

/** A firing (state) or a transition (event), as the evaluator stored it. */
export interface AlertFacts {
  /** The firing's event id: one alert from firing to resolution. */
  firing_id: string
  rule_id: number | null
  rule_name: string
  metric: AlertMetric
  subject: string
  value: number | null
  requests: number | null
  threshold: number
  window_minutes: number
  fired_at: Date
}

export interface Alert {
  /** Stable from firing to resolution: one webhook post each. */
  id: string
  rule_id: number | null
  rule: string
  metric: AlertMetric
  /** The user of a user_spend alert; null for the whole service. */
  subject: string | null
  severity: 'warning' | 'critical'
  title: string
  detail: string
  value: number | null
  threshold: number
  window_minutes: number
  since: string
  /** The dashboard page that shows it. */
  path: string
}

export function formatMetric(metric: AlertMetric, v: number | null): string {
  if (v === null) return '–'
  const { unit } = ALERT_METRICS[metric]
  if (unit === 'share') return `${(100 * v).toFixed(1)}%`
  if (unit === 'ms') return `${Math.round(v)} ms`
  return `$${v.toFixed(2)}`
}

export function formatWindow(minutes: number): string {
  if (minutes % 1440 === 0) return `${minutes / 1440} d`
  if (minutes % 60 === 0) return `${minutes / 60} h`
  return `${minutes} min`
}

export function toAlert(f: AlertFacts): Alert {
  const m = ALERT_METRICS[f.metric]
  const who = f.subject ? ` for user ${f.subject}` : ''
  const path = f.subject ? `${m.page}&user=${encodeURIComponent(f.subject)}` : m.page
  return {
    id: f.firing_id, rule_id: f.rule_id, rule: f.rule_name, metric: f.metric, subject: f.subject || null,
    // Twice the threshold is an incident, not a wobble.
    severity: f.value !== null && f.value >= 2 * f.threshold ? 'critical' : 'warning',
    title: `${f.rule_name === m.label ? '' : `${f.rule_name}: `}${m.label}${who} ${formatMetric(f.metric, f.value)} over the last ${formatWindow(f.window_minutes)}`,
    detail: `${m.of}; threshold ${formatMetric(f.metric, f.threshold)}, ${f.requests ?? 0} requests in the window.`,
    value: f.value, threshold: f.threshold, window_minutes: f.window_minutes, since: f.fired_at.toISOString(), path,
  }
}

/** The alerts firing now, as the evaluator last left them: the banner's and /api/alerts' answer. */
export async function firingAlerts(sql: ISql): Promise<Alert[]> {
  const rows = await sql<AlertFacts[]>`
    select s.firing_id::text, s.rule_id, r.name as rule_name, r.metric, s.subject, s.value, s.requests, r.threshold,
           r.window_minutes, s.since as fired_at
    from telemetry.alert_state s join telemetry.alert_rules r on r.id = s.rule_id
    where s.firing order by s.since, s.rule_id, s.subject`
  return rows.map(toAlert)
}
