import { PROCESS_FAULT_MESSAGE } from '$shared/telemetry/faults'
import type { Db } from './rollups.ts'

export interface ProcessFaults {
  /** Unhandled rejections the server logged and survived in the last 24 h. */
  count_24h: number
  last: { time: string; trace_id: string | null; error: string | null } | null
}

/** Failures nothing handled, which the server survived: each one is a bug to find by its trace. */
export async function processFaults(sql: Db, now = new Date()): Promise<ProcessFaults> {
  const since = new Date(now.getTime() - 24 * 3600_000)
  const rows = await sql<{ time: Date; trace_id: string | null; error: string | null; n: number }[]>`
    select time, trace_id, attributes->>'error' as error, (count(*) over ())::int as n
    from telemetry.logs
    where level = 'error' and message = ${PROCESS_FAULT_MESSAGE} and time > ${since} and time <= ${now}
    order by time desc
    limit 1`
  const [r] = rows
  return { count_24h: r?.n ?? 0, last: r ? { time: r.time.toISOString(), trace_id: r.trace_id, error: r.error } : null }
}
