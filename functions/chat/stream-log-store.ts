import { trace, TraceFlags, type Span } from '@opentelemetry/api'
import type { Sql } from 'postgres'
import type { FrameBatch } from './frame-log.ts'
import { groupCommit } from './group-commit.ts'

// The SQL of the frame log (migrations/20261205000100_stream_frames.sql). The batches and beats
// of all the isolate's streams go together (group-commit.ts): one statement carries every batch
// that was waiting, however many streams; a stream's end is a statement of its own, as is a
// lookup and a follower's poll.

/** A stream as another isolate finds it. */
export interface StreamRow {
  stream_id: string
  user_id: string
  trace_id: string
  span_id: string
  status: 'live' | 'complete' | 'error' | 'cut'
  last_seq: number
  terminal: string | null
}

/** The stream's request span as another isolate knows it: a parent for the spans of its resumes. */
export const spanOfStream = (row: StreamRow): Span =>
  trace.wrapSpanContext({ traceId: row.trace_id, spanId: row.span_id, traceFlags: TraceFlags.SAMPLED })

/** What a follower polls: the state, and the logged deltas after the seq it has. */
export interface FollowState extends StreamRow {
  /** Live, but no beat for `deadSeconds`: its isolate stopped. */
  stale: boolean
  /** [first_seq, deltas] per batch that holds a seq after the one asked for, in order. */
  batches: [number, string[]][]
}

export interface StreamLogSettings {
  retentionSeconds: number
  deadSeconds: number
}

const ROW = 'stream_id::text, user_id::text, trace_id, span_id, status, last_seq, terminal'

/** Batches in one statement at most (its JSON parameter stays a few hundred KiB). */
const MAX_BATCHES_PER_STATEMENT = 500

export function createStreamLogStore(sql: Sql, s: StreamLogSettings) {
  /** Streams past retention are not found, even before they are forgotten. */
  const current = sql`beat_at >= now() - make_interval(secs => ${s.retentionSeconds}::float8)`
  const writeBatch = groupCommit<{ streamId: string; b: FrameBatch }>({ flush: (items) => writeBatches(sql, items), maxItems: MAX_BATCHES_PER_STATEMENT })
  return {
    async write(streamId: string, b: FrameBatch): Promise<void> {
      if (!b.end) return writeBatch({ streamId, b })
      await sql`select public.end_chat_stream(${streamId}::uuid, ${b.firstSeq}::int, ${sql.json(b.deltas)}::jsonb,
        ${b.lastSeq}::int, ${b.end.status}, ${b.end.terminal}, ${s.retentionSeconds}::float8)`
    },
    async byId(streamId: string): Promise<StreamRow | undefined> {
      const [row] = await sql<StreamRow[]>`select ${sql.unsafe(ROW)} from public.chat_streams where stream_id = ${streamId}::uuid and ${current}`
      return row
    },
    async byIdempotencyKey(userId: string, key: string): Promise<StreamRow | undefined> {
      const [row] = await sql<StreamRow[]>`
        select ${sql.unsafe(ROW)} from public.chat_streams
        where user_id = ${userId}::uuid and idempotency_key = ${key} and ${current}`
      return row
    },
    async follow(streamId: string, afterSeq: number): Promise<FollowState | undefined> {
      const [row] = await sql<FollowState[]>`
        select ${sql.unsafe(ROW)},
               status = 'live' and beat_at < now() - make_interval(secs => ${s.deadSeconds}::float8) as stale,
               coalesce((select jsonb_agg(jsonb_build_array(f.first_seq, f.deltas) order by f.first_seq)
                         from public.chat_stream_frames f
                         where f.stream_id = s.stream_id and f.first_seq + jsonb_array_length(f.deltas) - 1 > ${afterSeq}::int), '[]') as batches
        from public.chat_streams s where stream_id = ${streamId}::uuid`
      return row
    },
    /** Cuts a stream whose isolate stopped and stores its partial answer; true if this call did. */
    async cut(streamId: string, terminal: string): Promise<boolean> {
      const [row] = await sql<{ cut: boolean }[]>`select public.cut_chat_stream(${streamId}::uuid, ${s.deadSeconds}::float8, ${terminal}) as cut`
      return row?.cut ?? false
    },
  }
}

export type StreamLogStore = ReturnType<typeof createStreamLogStore>

/**
 * Several streams' batches (an empty one is a beat) in one statement. A batch whose stream row
 * is gone is skipped rather than failing the others; a batch written again after a write whose
 * outcome was unknown starts at the same seq and holds at least as much, so it replaces the row.
 */
function writeBatches(sql: Sql, items: { streamId: string; b: FrameBatch }[]) {
  const rows = items.map(({ streamId, b }) => ({ s: streamId, f: b.firstSeq, d: b.deltas, l: b.lastSeq }))
  return sql`
    with b as (select * from jsonb_to_recordset(${sql.json(rows)}::jsonb) as t(s uuid, f int, d jsonb, l int)),
    frames as (insert into public.chat_stream_frames (stream_id, first_seq, deltas)
               select b.s, b.f, b.d from b join public.chat_streams c on c.stream_id = b.s
               where jsonb_array_length(b.d) > 0
               on conflict (stream_id, first_seq) do update set deltas = excluded.deltas)
    update public.chat_streams c set last_seq = greatest(c.last_seq, b.l), beat_at = now()
    from b where c.stream_id = b.s and c.status = 'live'`.then(() => {})
}
