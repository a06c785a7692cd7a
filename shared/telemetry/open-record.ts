import type { Sql } from 'postgres'
import { isMissingTable, isRowError } from './batch-insert.ts'
import { createHeartbeat } from './heartbeat.ts'
import type { OpenRegistry } from './open-registry.ts'
import { beatAndFindLost, spanKey, writeOpenRows, type Instance } from './open-rows.ts'
import type { SpanRow } from './rows.ts'

export interface OpenRecordOptions {
  sql: Sql
  /** This process in telemetry.instances; absent: nothing is put on record. */
  instance?: Instance
  open: OpenRegistry
  /** Between heartbeats while requests are on record (default a third of the instance's lostAfterMs). */
  heartbeatMs?: number
  onError(err: unknown): void
  /** Lost requests of other instances the heartbeat found, to be stored as spans from here. */
  adopt(rows: SpanRow[]): void
}

/** Puts the requests still open on record (telemetry.open_requests) and keeps this instance's heartbeat while any are. */
export function createOpenRecord(o: OpenRecordOptions) {
  const { instance, open } = o
  let recording = instance !== undefined
  const heartbeat = createHeartbeat({
    everyMs: o.heartbeatMs ?? (instance ? instance.lostAfterMs / 3 : 0),
    active: open.active,
    beat: () => beat(instance!),
    onError: o.onError,
  })

  async function beat(me: Instance) {
    const lost = await beatAndFindLost(o.sql, me)
    const adopted = lost.filter((r) => open.adopt(spanKey(r.trace_id, r.span_id)))
    if (adopted.length) o.adopt(adopted)
  }

  /** The database has no open_requests (the functions deployed before the migration): spans as before. */
  function stop() {
    recording = false
    open.clear()
  }

  return {
    /** Requests opened now are to be put on record. */
    get recording() { return recording },
    stop,
    /**
     * Writes the pending open rows and starts the heartbeat. Before any span batch of a drain:
     * a span row's delete of its open row must come after the open row's insert.
     */
    async write() {
      if (!instance || !open.pending) return
      const { keys, rows } = open.take()
      if (!rows.length) return
      try {
        await writeOpenRows(o.sql, instance, rows)
      } catch (err) {
        if (isRowError(err) || isMissingTable(err)) { // not worth blocking the queue for
          open.forget(keys)
          o.onError(err)
          if (isMissingTable(err)) stop()
          return
        }
        open.failed(keys)
        throw err
      }
      heartbeat.poke()
    },
    shutdown: () => heartbeat.stop(),
  }
}
