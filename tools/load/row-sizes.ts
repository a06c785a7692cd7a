// What one chat costs in storage: rows and bytes (pg_column_size of the whole row: the heap tuple's
// data as stored, compressed values included; indexes not counted) written for a run's traces.
import type { Sql } from 'postgres'

export interface RowSizes {
  chats: number
  tables: { table: string; name: string; rows: number; avg_bytes: number }[]
  per_chat: { rows: number; bytes: number }
}

export async function measureRowSizes(sql: Sql, runId: string): Promise<RowSizes> {
  const tables = await sql<{ table: string; name: string; rows: number; avg_bytes: number }[]>`
    with traces as (select distinct trace_id from telemetry.spans where run_id = ${runId})
    select 'telemetry.spans' as table, name, count(*)::int as rows, avg(pg_column_size(s.*))::float8 as avg_bytes
      from telemetry.spans s where trace_id in (select trace_id from traces) group by name
    union all
    select 'telemetry.logs', message, count(*)::int, avg(pg_column_size(l.*))::float8
      from telemetry.logs l where trace_id in (select trace_id from traces) group by message
    union all
    select 'public.messages', role, count(*)::int, avg(pg_column_size(m.*))::float8
      from public.messages m where trace_id in (select trace_id from traces) group by role
    order by 1, 3 desc`
  const [{ chats }] = await sql<{ chats: number }[]>`
    select count(distinct trace_id)::int as chats from telemetry.spans where run_id = ${runId}`
  const rows = tables.reduce((n, t) => n + t.rows, 0)
  const bytes = tables.reduce((n, t) => n + t.rows * t.avg_bytes, 0)
  return { chats, tables, per_chat: { rows: rows / Math.max(1, chats), bytes: bytes / Math.max(1, chats) } }
}

export function formatRowSizes(r: RowSizes): string {
  const lines = [`rows written for ${r.chats} chats (pg_column_size of each row; indexes not included):`]
  for (const t of r.tables) {
    lines.push(`  ${t.table.padEnd(16)} ${t.name.slice(0, 36).padEnd(36)} ${(t.rows / Math.max(1, r.chats)).toFixed(2).padStart(6)} per chat × ${t.avg_bytes.toFixed(0).padStart(6)} B`)
  }
  lines.push(`  per chat: ${r.per_chat.rows.toFixed(1)} rows, ${(r.per_chat.bytes / 1024).toFixed(2)} KiB`)
  return lines.join('\n')
}
