import { expect, it } from 'vitest'
import { parseAlertRule, seedRules, toAlert } from './alert-rules.ts'

const good = { name: ' Slow first token ', metric: 'ttfb_p95', threshold: 1500, window_minutes: 10 }

it('takes a rule, trimming the name and filling the optional fields', () => {
  expect(parseAlertRule(good)).toEqual({
    ok: true, rule: { name: 'Slow first token', metric: 'ttfb_p95', threshold: 1500, window_minutes: 10, min_requests: 1, cooldown_minutes: 0, enabled: true },
  })
  // What a GET returned, PUT back as it is.
  expect(parseAlertRule({ ...good, id: 3, created_at: 'x', updated_at: 'x', updated_by: 'a', state: {}, enabled: false }).ok).toBe(true)
})

it('lists everything wrong with a rule at once', () => {
  const r = parseAlertRule({ name: '', metric: 'error_rate', threshold: 5, window_minutes: 0, min_requests: 1.5, cooldown_minutes: '5', enabled: 'yes', windw: 5 })
  expect(r).toEqual({
    ok: false,
    problems: [
      'unknown field "windw"', 'name is required', 'threshold of error_rate is a share: at most 1 (0.05 = 5%)',
      'window_minutes must be an integer in [1, 10080]', 'min_requests must be an integer in [0, 1000000000]',
      'cooldown_minutes must be an integer in [0, 10080]', 'enabled must be true or false',
    ],
  })
  expect(parseAlertRule({ ...good, metric: 'p99', threshold: -1 })).toMatchObject({ ok: false, problems: [expect.stringMatching(/^metric must be one of error_rate, ttfb_p95, itl_p95, stall_rate, spend, user_spend$/), 'threshold must be above 0'] })
  expect(parseAlertRule({ ...good, name: 'a\u0000b', window_minutes: undefined })).toMatchObject({ ok: false, problems: ['name must not contain NUL characters', 'window_minutes is required'] })
  expect(parseAlertRule([good])).toEqual({ ok: false, problems: ['the rule must be a JSON object'] })
})

it('seeds the ALERT_* thresholds as rules', () => {
  expect(seedRules({ errorRate: 0.05, dailySpend: null, windowMinutes: 5, minRequests: 20 })).toEqual([
    { name: 'Error rate', metric: 'error_rate', threshold: 0.05, window_minutes: 5, min_requests: 20, cooldown_minutes: 0, enabled: true },
  ])
  expect(seedRules({ errorRate: null, dailySpend: 50, windowMinutes: 5, minRequests: 20 }).map((r) => [r.metric, r.window_minutes])).toEqual([['spend', 1440]])
})

it('words an alert for the banner and the webhook', () => {
  const alert = toAlert({
    firing_id: '7', rule_id: 2, rule_name: 'Big spender', metric: 'user_spend', subject: 'u 1', value: 12.5, requests: 40,
    threshold: 5, window_minutes: 1440, fired_at: new Date('2026-12-01T10:00:00Z'),
  })
  expect(alert).toEqual({
    id: '7', rule_id: 2, rule: 'Big spender', metric: 'user_spend', subject: 'u 1', severity: 'critical',
    title: 'Big spender: Spend per user for user u 1 $12.50 over the last 1 d',
    detail: 'model cost of one user (each user alerts on their own); threshold $5.00, 40 requests in the window.',
    value: 12.5, threshold: 5, window_minutes: 1440, since: '2026-12-01T10:00:00.000Z', path: '/spend?range=24h&user=u%201',
  })
})
