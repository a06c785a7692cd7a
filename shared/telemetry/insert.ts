import type { PendingQuery, Row, Sql, TransactionSql } from 'postgres'
import { ATTR } from './attributes.ts'
import { isoTime, jsonText, noNul, realArrayLiteral } from './encode.ts'
import type { LogRow, SpanRow } from './rows.ts'
import { ALL_SPAN_COLUMNS, SPAN_COLUMNS, type SqlType, WRITTEN_SPAN_COLUMNS } from './span-columns.ts'

// The statements that write telemetry: the span INSERT that prices the spans and hands them
// to telemetry.roll_up (one SQL, read either from the COPY-filled stage or from unnest()),
// and the statement path's logs insert. unnest() of column-wise arrays: one statement with a
// fixed parameter count, whatever the batch size — no 65k-parameter ceiling, and far less
// to parse than a VALUES list of rows × columns.

const iso = (d: Date) => isoTime(d.getTime())

/**
 * How a value of each SQL type travels in an unnest() array: the array's type, and the
 * element made from a non-null value. Booleans go as text: postgres.js does not serialize
 * boolean arrays; real[] as one literal per row: unnest() of a 2-D array would flatten it.
 */
const PARAM: Record<SqlType, { array: string; of?: (v: never) => string | null }> = {
  text: { array: 'text[]', of: noNul },
  timestamptz: { array: 'timestamptz[]', of: iso },
  float8: { array: 'float8[]' },
  real: { array: 'real[]' },
  int4: { array: 'int4[]' },
  int2: { array: 'int2[]' },
  numeric: { array: 'numeric[]' },
  bool: { array: 'text[]', of: String },
  'real[]': { array: 'text[]', of: realArrayLiteral },
  jsonb: { array: 'text[]', of: jsonText },
}

const COLUMN_LIST = SPAN_COLUMNS.join(', ')
/** unnest()'s columns in the table's types (those carried as text cast back). */
const UNNEST_SELECT = WRITTEN_SPAN_COLUMNS.map((c) => (PARAM[c.type].array === `${c.type}[]` ? c.name : `${c.name}::${c.type} as ${c.name}`)).join(', ')

/** Span rows as an unnest() of column arrays: the statement path (PGlite, replays). */
function unnestSource(sql: Sql | TransactionSql, rows: SpanRow[]) {
  const arrays = WRITTEN_SPAN_COLUMNS.map((c) => {
    const { array } = PARAM[c.type]
    const of = PARAM[c.type].of as ((v: unknown) => string | null) | undefined
    const missing = !c.null && c.type === 'jsonb' ? '{}' : null
    const values = rows.map((r): string | number | null => {
      const v = r[c.name]
      return v === null || v === undefined ? missing : of ? of(v) : (v as number)
    })
    return sql`${values}::${sql.unsafe(array)}`
  })
  return sql`select ${sql.unsafe(UNNEST_SELECT)} from unnest(${arrays.reduce((list, a) => sql`${list}, ${a}`)}) as t(${sql.unsafe(COLUMN_LIST)})`
}

/**
 * The stage a COPY fills: a temp table shaped like telemetry.spans, private to the
 * connection and emptied at every commit. Created inside the transaction that uses
 * it, so it also works behind a transaction-mode pooler (Supavisor).
 */
export const STAGE = 'pg_temp.span_stage'
export async function createStage(tx: TransactionSql) {
  await tx.unsafe(`set local client_min_messages = warning;
    create temp table if not exists span_stage (like telemetry.spans) on commit delete rows`)
}

/** Inserts span rows (priced, folded into the rollups: see insertSpansFrom). */
export function insertSpans(sql: Sql | TransactionSql, rows: SpanRow[]) {
  return insertSpansFrom(sql, unnestSource(sql, rows))
}

/** Inserts the rows a COPY put in the stage (createStage). */
export function insertStagedSpans(tx: TransactionSql) {
  return insertSpansFrom(tx, tx`select ${tx.unsafe(COLUMN_LIST)} from ${tx.unsafe(STAGE)}`)
}

const INSERT_COLUMNS = ALL_SPAN_COLUMNS.map((c) => c.name).join(', ')
const INSERT_VALUES = ALL_SPAN_COLUMNS.map((c) => c.insert ?? c.name).join(', ')

/**
 * Inserts spans, prices them (telemetry.span_costs, inlined) and folds the request spans into the
 * rollups (telemetry.roll_up), in ONE statement: spans and rollups cannot disagree.
 * `on conflict do nothing` makes a retried batch (commit outcome unknown after a dropped
 * connection) neither duplicate spans nor count them twice: only the rows inserted are
 * rolled up. Only server spans can be requests: the rest (priced provider spans) are not
 * handed over, which halves the array (roll_up picks the requests itself), except the
 * beacons' client timings, which roll_up counts in their requests' rows.
 */
function insertSpansFrom(sql: Sql | TransactionSql, source: PendingQuery<Row[]>) {
  return sql`
    with input as (${source}), ins as (
      insert into telemetry.spans as s (${sql.unsafe(INSERT_COLUMNS)})
      select ${sql.unsafe(INSERT_VALUES)} from input
      on conflict do nothing
      returning s
    )
    select telemetry.roll_up(array_agg(s) filter (where (s).kind = 'server' or (s).attributes ? ${ATTR.clientTtfbMs})) from ins`
}

export function insertLogs(sql: Sql, rows: LogRow[]) {
  const col = <T>(f: (r: LogRow) => T) => rows.map(f)
  return sql`
    insert into telemetry.logs (time, level, trace_id, span_id, message, attributes)
    select * from unnest(
      ${col((r) => iso(r.time))}::timestamptz[], ${col((r) => r.level)}::text[], ${col((r) => r.trace_id)}::text[],
      ${col((r) => r.span_id)}::text[], ${col((r) => noNul(r.message))}::text[], ${col((r) => jsonText(r.attributes))}::text[]::jsonb[])`
}
