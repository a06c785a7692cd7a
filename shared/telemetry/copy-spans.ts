import { Readable } from 'node:stream'
import type { Sql, TransactionSql } from 'postgres'
import type { SpanRow } from './rows.ts'

// COPY … FROM STDIN into telemetry.spans: Postgres inserts COPY rows in multi-row
// buffers, several times cheaper per row than INSERT … SELECT. The pipeline sends
// this way only the spans that need neither pricing nor a rollup (auth, database,
// internal spans: most of them); request and provider spans take insertSpans.

const COLUMNS = [
  'trace_id', 'span_id', 'parent_span_id', 'name', 'kind', 'start_time', 'end_time', 'duration_ms', 'status_code',
  'status_message', 'function', 'model', 'ttfb_ms', 'input_tokens', 'output_tokens', 'error_type', 'user_id', 'session_id',
  'attributes', 'events', 'frame_offsets_ms', 'frames', 'bytes', 'end_reason', 'stalls', 'max_gap_ms', 'usage_estimated',
  'http_status', 'run_id',
] as const satisfies readonly (keyof SpanRow)[]

const NUL_ESCAPE = /(?<!\\)((?:\\\\)*)\\u0000/g
const SPECIAL = /[\\\t\n\r\0]/

/** One field in COPY's text format: \N for null, backslash escapes, no NUL. */
function field(v: string | null): string {
  if (v === null) return '\\N'
  if (!SPECIAL.test(v)) return v
  return v.replaceAll('\0', '').replace(/\\/g, '\\\\').replace(/\t/g, '\\t').replace(/\n/g, '\\n').replace(/\r/g, '\\r')
}

function value(r: SpanRow, c: (typeof COLUMNS)[number]): string | null {
  const v = r[c]
  if (v === null || v === undefined) return c === 'attributes' ? '{}' : null
  if (v instanceof Date) return v.toISOString()
  if (c === 'attributes' || c === 'events') {
    const s = JSON.stringify(v)
    return s.includes('\\u0000') ? s.replace(NUL_ESCAPE, '$1') : s
  }
  if (c === 'frame_offsets_ms') return `{${(v as number[]).map((x) => Math.round(x * 100) / 100).join(',')}}`
  return String(v)
}

export function toCopyLine(r: SpanRow): string {
  let line = ''
  for (let i = 0; i < COLUMNS.length; i++) line += (i ? '\t' : '') + field(value(r, COLUMNS[i]))
  return line + '\n'
}

/** Needs the INSERT statement: priced (has tokens) or counted in rollup_minute (a request span). */
export const needsInsertStatement = (r: SpanRow) =>
  (r.kind === 'server' && r.function !== null) || r.input_tokens !== null || r.output_tokens !== null

/**
 * Sends the rows by COPY on a transaction's connection. Resolves once the data is
 * handed over, NOT when the server has applied it: postgres.js 3.4 never settles a
 * COPY that fails at its end (constraint, missing partition), so the caller must
 * follow with a statement in the same transaction — it fails with 25P02 (aborted
 * transaction) if the COPY did. An error during the transfer rejects here.
 */
export async function copySpans(tx: TransactionSql, rows: SpanRow[]): Promise<void> {
  const writable = await tx.unsafe(`copy telemetry.spans (${COLUMNS.join(', ')}) from stdin`).writable()
  await new Promise<void>((resolve, reject) => {
    // postgres.js sends CopyDone in the stream's _final; once that has run, the next
    // query may be issued (it is pipelined behind the COPY). Hook it to know when.
    const w = writable as unknown as { _final(cb: (err?: Error | null) => void): void }
    const final = w._final.bind(writable)
    w._final = (cb) => { final(cb); resolve() }
    writable.once('error', reject)
    // Serialized a slice at a time, yielding between slices: a large batch must not
    // hold the event loop (and every stream's next frame) for milliseconds.
    Readable.from(toCopyChunks(rows)).pipe(writable)
  })
}

function* toCopyChunks(rows: SpanRow[]) {
  for (let i = 0; i < rows.length; i += CHUNK_ROWS) {
    let chunk = ''
    for (let j = i; j < Math.min(rows.length, i + CHUNK_ROWS); j++) chunk += toCopyLine(rows[j])
    yield chunk
  }
}

const CHUNK_ROWS = 128

/** True where COPY works: not PGlite, whose socket server does not speak the COPY sub-protocol. */
export async function supportsCopy(sql: Sql): Promise<boolean> {
  const [{ version }] = await sql`select version()`
  return !/pglite|emscripten|wasm/i.test(String(version))
}
