import type { Sql } from 'postgres'

export interface MaintenanceOptions {
  /** TELEMETRY_RETENTION_DAYS: day partitions of spans and logs older than this are dropped. Default 30. */
  retentionDays?: number
  /** Rollup rows (rollup_minute) older than this are deleted. Default 400. */
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
}

export interface Maintenance {
  /** One pass now (also what the timer runs); never throws, resolves undefined on failure. */
  runOnce(): Promise<MaintenanceResult | undefined>
  stop(): Promise<void>
}

function days(name: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a whole number of days >= 1, got ${value}`)
  return v
}

/**
 * The telemetry housekeeping of a long-lived server: daily partitions for
 * yesterday .. +7 days, whole-day partition drops beyond the retention, old rollup
 * rows pruned — one `telemetry.run_maintenance` call, now and then every hour.
 * (On Supabase pg_cron runs the same function; see migrations/…_telemetry_retention.sql.)
 */
export function startMaintenance(sql: Sql, options: MaintenanceOptions = {}): Maintenance {
  const retention = days('TELEMETRY_RETENTION_DAYS', options.retentionDays, 30)
  const rollupRetention = days('rollup retention', options.rollupRetentionDays, 400)
  const log = options.log ?? ((line: string) => console.error(line))
  let running: Promise<MaintenanceResult | undefined> | undefined
  let stopped = false

  function runOnce(): Promise<MaintenanceResult | undefined> {
    running ??= (async () => {
      try {
        const [row] = await sql`select telemetry.run_maintenance(${retention}::int, ${rollupRetention}::int) as result`
        const result = row.result as MaintenanceResult
        if (result.dropped > 0 || result.rollups_pruned > 0 || result.trace_owners_pruned > 0) {
          log(`telemetry maintenance: dropped ${result.dropped} day partitions older than ${retention} days, pruned ${result.rollups_pruned} rollup rows and ${result.trace_owners_pruned} trace owners`)
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
