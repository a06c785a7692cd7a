import type { Sql, TransactionSql } from 'postgres'
import { copyTransaction, type CopyFn, LOG_COLUMNS, logCopyLine, needsPricingOrRollup, spanCopyLine, supportsCopy } from './copy.ts'
import { createStage, insertLogs, insertSpans, insertStagedSpans, STAGE } from './insert.ts'
import { transaction } from '../db/transaction.ts'
import { spanKey, supersedeOpenRows } from './open-rows.ts'
import type { LogRow, SpanRow } from './rows.ts'
import { SPAN_COLUMNS } from './span-columns.ts'

// How one batch reaches Postgres. Two modes, chosen once per database:
// - COPY (Postgres, Supabase): rows are encoded to COPY lines when queued. Spans that
//   need no pricing or rollup go straight into telemetry.spans, the rest into the
//   stage the pricing-and-rollup INSERT reads; one transaction. If the database refuses
//   the batch (a replay after an unknown commit outcome, a missing day, a bad row),
//   the whole batch goes through the stage, whose INSERT skips rows already stored.
// - Statements (PGlite, whose socket does not speak COPY): INSERT … unnest.
// Either way a missing day partition is created and the write repeated.

export type Table = 'spans' | 'logs'
export type Row = SpanRow | LogRow
/**
 * A row as its COPY line; `rich` spans need pricing/rollups; `ms` is its time (for partitions);
 * `key` (request spans only) names the open_requests row it supersedes, if there is one.
 */
export interface Encoded { line: string; rich: boolean; ms: number; key?: string }
export type Item = Row | Encoded

export interface BatchWriter {
  /** True once COPY is known to work: rows are then encoded when queued. */
  readonly encodes: boolean
  encode(table: Table, item: Item): Encoded
  /** Writes a batch; in its transaction, deletes the open_requests rows named by `supersede`. */
  write(table: Table, items: Item[], supersede?: string[]): Promise<void>
  /** COPY batches the database refused whole and that went through the stage instead. */
  readonly fallbacks: number
}

const NO_PARTITION = '23514' // check_violation: "no partition of relation ... found for row"
const isPostgresError = (err: unknown) => (err as Error)?.name === 'PostgresError'

export function createBatchWriter(sql: Sql, copy: boolean | 'auto' = 'auto'): BatchWriter {
  let mode: boolean | undefined = copy === 'auto' ? undefined : copy
  let probe: Promise<boolean> | undefined
  let fallbacks = 0
  // Detected once; a failed probe (database down) is asked again next time.
  const copyOn = async () => mode ?? (mode = await (probe ??= supportsCopy(sql).finally(() => { probe = undefined })))

  return {
    get encodes() { return mode === true },
    get fallbacks() { return fallbacks },
    encode: encodeItem,
    async write(table, items, supersede = []) {
      // Rows are encoded only once COPY is known to work: the statement path never sees a line.
      if (!(await copyOn())) return writeStatements(sql, table, items as Row[], supersede)
      const encoded = items.map((i) => encodeItem(table, i))
      if (table === 'logs') return copyLogs(sql, encoded)
      return copySpans(sql, encoded, supersede, () => fallbacks++)
    },
  }
}

function encodeItem(table: Table, item: Item): Encoded {
  if ('line' in item) return item
  if (table === 'logs') {
    const r = item as LogRow
    return { line: logCopyLine(r), rich: false, ms: r.time.getTime() }
  }
  const r = item as SpanRow
  const encoded: Encoded = { line: spanCopyLine(r), rich: needsPricingOrRollup(r), ms: r.start_time.getTime() }
  const key = requestKey(r)
  if (key) encoded.key = key
  return encoded
}

/** Runs `write`; if a day partition is missing, creates the days the batch covers and runs it again. */
async function withPartitions(sql: Sql, times: number[], write: () => Promise<unknown>) {
  try {
    await write()
  } catch (err) {
    if ((err as { code?: string }).code !== NO_PARTITION) throw err
    let min = Infinity, max = -Infinity
    for (const t of times) { if (t < min) min = t; if (t > max) max = t }
    const day = (ms: number) => new Date(ms).toISOString().slice(0, 10)
    await sql`select telemetry.ensure_partitions(${day(min)}::date, ${day(max)}::date)`
    await write()
  }
}

/** COPYs spans into the stage and runs the pricing-and-rollup INSERT from it. */
async function viaStage(copy: CopyFn, tx: TransactionSql, items: Encoded[]) {
  await createStage(tx)
  await copy(STAGE, SPAN_COLUMNS, items)
  await insertStagedSpans(tx) // also the statement after the COPY: see copyTransaction
}

/** COPYs a span batch; one the database refuses goes whole through the stage (`onFallback`). */
async function copySpans(sql: Sql, items: Encoded[], supersede: string[], onFallback: () => void): Promise<void> {
  try {
    await copyTransaction(sql, async (copy, tx) => {
      const rich = items.filter((i) => i.rich)
      const plain = rich.length ? items.filter((i) => !i.rich) : items
      if (plain.length) await copy('telemetry.spans', SPAN_COLUMNS, plain)
      if (rich.length) await viaStage(copy, tx, rich)
      else if (!supersede.length) await tx`select 1`
      await supersedeOpenRows(tx, supersede)
    })
  } catch (err) {
    if (!isPostgresError(err)) throw err // connection trouble: the pipeline retries
    onFallback()
    await withPartitions(sql, items.map((i) => i.ms), () => copyTransaction(sql, async (copy, tx) => {
      await viaStage(copy, tx, items)
      await supersedeOpenRows(tx, supersede)
    }))
  }
}

const copyLogs = (sql: Sql, items: Encoded[]) => withPartitions(sql, items.map((i) => i.ms), () => copyTransaction(sql, async (copy, tx) => {
  await copy('telemetry.logs', LOG_COLUMNS, items)
  await tx`select 1`
}))

/** The statement path: INSERT … unnest, for a database without COPY. */
function writeStatements(sql: Sql, table: Table, items: Row[], supersede: string[]) {
  if (table === 'logs') {
    const rows = items as LogRow[]
    return withPartitions(sql, rows.map((r) => r.time.getTime()), () => insertLogs(sql, rows))
  }
  const rows = items as SpanRow[]
  const insert = supersede.length
    ? () => transaction(sql, async (tx) => { await insertSpans(tx, rows); await supersedeOpenRows(tx, supersede) })
    : () => insertSpans(sql, rows)
  return withPartitions(sql, rows.map((r) => r.start_time.getTime()), insert)
}

/** The open_requests key of a request span (the only spans that have an open row). */
export const requestKey = (r: SpanRow): string | undefined =>
  r.kind === 'server' && r.function !== null ? spanKey(r.trace_id, r.span_id) : undefined

/** The key of a queued span, encoded or not. */
export const itemKey = (item: Item): string | undefined => ('line' in item ? item.key : requestKey(item as SpanRow))
