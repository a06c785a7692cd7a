import type { Sql } from 'postgres'

export interface MaintenanceOptions {
  /**
   * The config's retentionDays (TELEMETRY_RETENTION_DAYS): day partitions of spans and logs older
   * than this are dropped. Written to telemetry.settings on every pass, so the pg_cron job keeps it
   * too; unset = the row's value.
   */
  retentionDays?: number
  /** Rollup rows (rollup_minute…) older than this are deleted; unset = the row's value (400). */
  rollupRetentionDays?: number
  /** Default hourly. */
  intervalMs?: number
  log?: (line: string) => void
}

export interface MaintenanceResult {
  created: number
  dropped: number
  rollups_pruned: number
  trace_owners_pruned: number
  /** The retention the pass applied. */
  retention_days: number
}

export interface Maintenance {
  /** One pass now (also what the timer runs); never throws, resolves undefined on failure. */
  runOnce(): Promise<MaintenanceResult | undefined>
  stop(): Promise<void>
}

function days(name: string, value: number | undefined): number | undefined {
  if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new Error(`${name} must be a whole number of days >= 1, got ${value}`)
  return value
}

/**
 * The telemetry housekeeping of a long-lived server: daily partitions for yesterday .. +7 days,
 * whole-day partition drops beyond the retention, old rollup rows pruned — one
 * `telemetry.run_maintenance()` call, now and then every hour. Each pass also (re)schedules the
 * same call in pg_cron where it is installed (`telemetry.ensure_schedule()`), which is what runs
 * it on Supabase when no server does (migrations/…_retention_schedule.sql).
 */
export function startMaintenance(sql: Sql, options: MaintenanceOptions = {}): Maintenance {
  const retention = days('TELEMETRY_RETENTION_DAYS', options.retentionDays)
  const rollupRetention = days('rollup retention', options.rollupRetentionDays)
  const log = options.log ?? ((line: string) => console.error(line))
  let running: Promise<MaintenanceResult | undefined> | undefined
  let schedule = ''
  let stopped = false

  async function pass(): Promise<MaintenanceResult> {
    if (retention !== undefined || rollupRetention !== undefined) {
      await sql`update telemetry.settings set retention_days = coalesce(${retention ?? null}::int, retention_days),
                  rollup_retention_days = coalesce(${rollupRetention ?? null}::int, rollup_retention_days)`
    }
    const [{ scheduled }] = await sql`select telemetry.ensure_schedule() as scheduled`
    if (scheduled === 'scheduled' && schedule !== scheduled) log('telemetry maintenance is scheduled in pg_cron too (streamscope-telemetry-maintenance, hourly)')
    schedule = scheduled as string
    const [row] = await sql`select telemetry.run_maintenance() as result`
    return row.result as MaintenanceResult
  }

  function runOnce(): Promise<MaintenanceResult | undefined> {
    running ??= (async () => {
      try {
        const result = await pass()
        if (result.dropped > 0 || result.rollups_pruned > 0 || result.trace_owners_pruned > 0) {
          log(`telemetry maintenance: dropped ${result.dropped} day partitions older than ${result.retention_days} days, pruned ${result.rollups_pruned} rollup rows and ${result.trace_owners_pruned} trace owners`)
        }
        return result
      } catch (err) {
        log(`telemetry maintenance failed (will retry next hour): ${(err as Error)?.message ?? err}`)
        return undefined
      } finally {
        running = undefined
      }
    })()
    return running
  }

  void runOnce()
  const timer = setInterval(() => { if (!stopped) void runOnce() }, options.intervalMs ?? 3600_000)
  ;(timer as { unref?: () => void }).unref?.()

  return {
    runOnce,
    async stop() {
      stopped = true
      clearInterval(timer)
      await running
    },
  }
}
