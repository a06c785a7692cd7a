import { Readable, type Writable } from 'node:stream'
import type { Sql, TransactionSql } from 'postgres'
import { transaction } from '../db/transaction.ts'
import { ATTR } from './attributes.ts'
import { isoTime, jsonText, realArrayLiteral } from './encode.ts'
import type { LogRow, SpanRow } from './rows.ts'
import { type SqlType, WRITTEN_SPAN_COLUMNS } from './span-columns.ts'

// COPY … FROM STDIN: Postgres inserts COPY rows in multi-row buffers, several times
// cheaper per row than INSERT … SELECT, and the text format costs Node far less to
// write than a statement's parameters. A row is turned into its line once, when it
// is queued (writer.ts): what waits in the queue is one flat string, not an object
// graph the garbage collector has to trace and copy.

const SPECIAL = /[\\\t\n\r\0]/
const NULL = '\\N'

/** One text field in COPY's text format: \N for null, backslash escapes, no NUL. */
function t(v: string | null): string {
  if (v === null) return NULL
  if (!SPECIAL.test(v)) return v
  return v.replaceAll('\0', '').replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
}
const n = (v: number | null) => (v === null ? NULL : String(v))
const b = (v: boolean | null) => (v === null ? NULL : v ? 't' : 'f')

type Field = (r: SpanRow) => string
type Key = keyof SpanRow
const value = <T>(r: SpanRow, k: Key) => r[k] as T

/**
 * A column's COPY field, for each SQL type: \N for null. One function per column, each a
 * closure of its own type's code, so the call inside is to one known function.
 */
const FIELD: Record<SqlType, (k: Key, notNull: boolean) => Field> = {
  text: (k) => (r) => t(value(r, k)),
  timestamptz: (k) => (r) => { const v = value<Date | null>(r, k); return v === null ? NULL : isoTime(v.getTime()) },
  float8: (k) => (r) => n(value(r, k)),
  real: (k) => (r) => n(value(r, k)),
  int4: (k) => (r) => n(value(r, k)),
  int2: (k) => (r) => n(value(r, k)),
  numeric: (k) => (r) => n(value(r, k)),
  bool: (k) => (r) => b(value(r, k)),
  'real[]': (k) => (r) => realArrayLiteral(value(r, k)) ?? NULL,
  // A NOT NULL jsonb column's null is stored as '{}'.
  jsonb: (k, notNull) => notNull ? (r) => t(jsonText(value(r, k)) ?? '{}') : (r) => t(jsonText(value(r, k))),
}

// Built once from span-columns.ts, in SPAN_COLUMNS order: this runs for every span.
const SPAN_FIELDS = WRITTEN_SPAN_COLUMNS.map((c) => FIELD[c.type](c.name, !c.null))
const LAST = SPAN_FIELDS.length - 1

// Lines are built with join(), not concatenation: join yields one flat string, while
// `a + b + …` yields a tree of ~60 cons strings per line that the garbage collector
// must trace and copy for as long as the line waits in the queue.

/** One span as a COPY line, in SPAN_COLUMNS order. */
export function spanCopyLine(r: SpanRow): string {
  const fields = new Array<string>(SPAN_FIELDS.length)
  for (let i = 0; i < LAST; i++) fields[i] = SPAN_FIELDS[i]!(r)
  fields[LAST] = SPAN_FIELDS[LAST]!(r) + '\n'
  return fields.join('\t')
}

export const LOG_COLUMNS = ['time', 'level', 'trace_id', 'span_id', 'message', 'attributes'] as const satisfies readonly (keyof LogRow)[]

export function logCopyLine(r: LogRow): string {
  return [isoTime(r.time.getTime()), t(r.level), t(r.trace_id), t(r.span_id), t(r.message), t(jsonText(r.attributes) ?? '{}') + '\n'].join('\t')
}

/**
 * Priced (has tokens) or counted in the rollups (a request span, or a beacon's client timing,
 * counted in its request's row): goes through the stage and its INSERT.
 */
export const needsPricingOrRollup = (r: SpanRow) =>
  (r.kind === 'server' && r.function !== null) || r.input_tokens !== null || r.output_tokens !== null ||
  r.attributes[ATTR.clientTtfbMs] !== undefined

const ABORTED = '25P02' // in_failed_sql_transaction

/**
 * Runs `work` in one transaction; `copy` sends COPY lines in it. A COPY the server
 * refuses (a bad value, a missing partition, a duplicate key) is reported by its own
 * error, not by the 25P02 (aborted transaction) of the statement after it.
 * `work` must end with a statement after its last COPY: see copyLines.
 */
export async function copyTransaction(sql: Sql, work: (copy: CopyFn, tx: TransactionSql) => Promise<unknown>): Promise<void> {
  const refusals: (() => unknown)[] = []
  try {
    await transaction(sql, (tx) => work(async (table, columns, items) => { refusals.push(await copyLines(tx, table, columns, items)) }, tx))
  } catch (err) {
    if ((err as { code?: string }).code === ABORTED) {
      for (const refused of refusals) { const own = refused(); if (own) throw own }
    }
    throw err
  }
}

export type CopyFn = (table: string, columns: readonly string[], items: { line: string }[]) => Promise<void>

/**
 * Sends COPY lines on a transaction's connection. Resolves once the data is handed
 * over, NOT when the server has applied it: postgres.js 3.4 never settles a COPY
 * that fails at its end (constraint, missing partition), so the caller must follow
 * with a statement in the same transaction — it fails with 25P02 if the COPY did.
 * Resolves to a getter of the COPY's own error, caught where postgres.js rejects
 * the (already resolved) COPY query. An error during the transfer rejects here.
 */
async function copyLines(tx: TransactionSql, table: string, columns: readonly string[], items: { line: string }[]): Promise<() => unknown> {
  const query = tx.unsafe(`copy ${table} (${columns.join(', ')}) from stdin`) as unknown as { reject(err: unknown): void; writable(): Promise<Writable> }
  let refused: unknown
  const reject = query.reject
  query.reject = (err) => { refused = err; reject(err) }
  const writable = await query.writable()
  await new Promise<void>((resolve, reject) => {
    // postgres.js sends CopyDone in the stream's _final; once that has run, the next
    // query may be issued (it is pipelined behind the COPY). Hook it to know when.
    const w = writable as unknown as { _final(cb: (err?: Error | null) => void): void }
    const final = w._final.bind(writable)
    w._final = (cb) => { final(cb); resolve() }
    writable.once('error', reject)
    // Handed over a slice at a time, yielding between slices: a large batch must not
    // hold the event loop (and every stream's next frame) for milliseconds.
    Readable.from(chunks(items)).pipe(writable)
  })
  return () => refused
}

function* chunks(items: { line: string }[]) {
  for (let i = 0; i < items.length; i += CHUNK_ROWS) {
    const lines: string[] = []
    for (let j = i; j < Math.min(items.length, i + CHUNK_ROWS); j++) lines.push(items[j].line)
    yield lines.join('')
  }
}

const CHUNK_ROWS = 128

/** True where COPY works: not PGlite, whose socket server does not speak the COPY sub-protocol. */
export async function supportsCopy(sql: Sql): Promise<boolean> {
  const [{ version }] = await sql`select version()`
  return !/pglite|emscripten|wasm/i.test(String(version))
}
