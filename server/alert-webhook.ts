// Notifications: the events telemetry.evaluate_alerts left pending in telemetry.alert_events,
// posted to ALERT_WEBHOOK_URL oldest first, in the project's JSON or as a Slack message.
import type { Sql } from 'postgres'
import { toAlert, type Alert, type AlertFacts, type WebhookFormat } from '../shared/alert-rules.ts'

/** The project's JSON body (ALERT_WEBHOOK_FORMAT=json). */
export interface AlertEvent {
  status: 'firing' | 'resolved'
  alert: Alert
  /** When it fired or resolved (a retried post is sent later than this). */
  at: string
  dashboard_path: string
  sent_at: string
}

/** A row of telemetry.alert_events, as the sender reads it. */
export interface EventRow extends AlertFacts {
  id: string
  status: AlertEvent['status']
  at: Date
}

/** What the evaluator returns and the sender reads: an event with the id of the firing it belongs to. */
export const EVENT_COLUMNS = `id::text, coalesce(firing_id, id)::text as firing_id, rule_id, rule_name, metric, subject, status, at,
  value, requests, threshold, window_minutes, fired_at`

export function toEvent(row: EventRow, sentAt: Date): AlertEvent {
  const alert = toAlert(row)
  return { status: row.status, alert, at: row.at.toISOString(), dashboard_path: alert.path, sent_at: sentAt.toISOString() }
}

/** Slack's mrkdwn takes these three as markup. */
const slackText = (s: string) => s.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;')

/** A Slack incoming-webhook message (`text` is the notification's fallback, `blocks` what is shown). */
export function toSlack(e: AlertEvent): { text: string; blocks: unknown[] } {
  const head = e.status === 'firing' ? `:rotating_light: Firing (${e.alert.severity})` : ':white_check_mark: Resolved'
  const text = `${head}: ${e.alert.title}`
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text: `*${slackText(text)}*\n${slackText(e.alert.detail)}` } },
      { type: 'context', elements: [{ type: 'mrkdwn', text: slackText(`rule ${e.alert.rule} · since ${e.alert.since} · ${e.status} ${e.at} · dashboard ${e.dashboard_path}`) }] },
    ],
  }
}

export interface Sender {
  url: string
  format: WebhookFormat
  fetch: typeof fetch
  log: (line: string) => void
}

/** One POST; a non-2xx answer, a network error or no answer in 10 s is a failure, named in the result. */
async function post(s: Sender, event: AlertEvent): Promise<string | null> {
  try {
    const res = await s.fetch(s.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': 'streamscope-alerts' },
      body: JSON.stringify(s.format === 'slack' ? toSlack(event) : event),
      signal: AbortSignal.timeout(10_000),
    })
    await res.body?.cancel()
    return res.ok ? null : `webhook answered ${res.status}`
  } catch (err) {
    return (err as Error).message
  }
}

/**
 * Posts the pending events in order until one fails; that one (and those after it) wait for the
 * next pass. Each is claimed before its POST, so a second server on the database skips it.
 * Without a webhook, pending events are marked skipped: the dashboard shows them all the same.
 */
export async function deliverPending(sql: Sql, sender: Sender | null): Promise<number> {
  if (!sender) {
    await sql`update telemetry.alert_events set delivery = 'skipped' where delivery = 'pending'`
    return 0
  }
  let sent = 0
  for (;;) {
    const [row] = await sql<EventRow[]>`
      update telemetry.alert_events set claimed_until = now() + interval '1 minute', attempts = attempts + 1
      where id = (select id from telemetry.alert_events
                  where delivery = 'pending' and (claimed_until is null or claimed_until < now())
                  order by id limit 1 for update skip locked)
      returning ${sql.unsafe(EVENT_COLUMNS)}`
    if (!row) return sent
    const failure = await post(sender, toEvent(row, new Date()))
    if (failure) {
      sender.log(`could not post ${row.status} ${row.rule_name}: ${failure}; will retry`)
      await sql`update telemetry.alert_events set claimed_until = null, last_error = ${failure} where id = ${row.id}`
      return sent
    }
    await sql`update telemetry.alert_events set delivery = 'sent', delivered_at = now(), claimed_until = null, last_error = null
              where id = ${row.id}`
    sent++
  }
}
