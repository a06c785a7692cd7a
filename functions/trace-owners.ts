import type { Sql } from 'postgres'

/**
 * Which user each trace belongs to (public.trace_owners): the first user whose
 * authenticated request lived in it. The gate continues a caller's trace only when
 * `claim` says it is theirs.
 */
export function createTraceOwners(sql: Sql) {
  return {
    /**
     * Binds the trace to the user unless another user holds it; true when it is the
     * user's (now or already). One statement: the upsert takes the row's lock, so two
     * users racing for one new trace id get one answer each, and only one gets true. The
     * owner's own use keeps the binding fresh (`seen_at`, what retention prunes by).
     */
    async claim(traceId: string, userId: string): Promise<boolean> {
      const [row] = await sql<{ mine: boolean }[]>`
        insert into public.trace_owners as t (trace_id, user_id) values (${traceId}, ${userId})
        on conflict (trace_id) do update set seen_at = case when t.user_id = ${userId}::uuid then now() else t.seen_at end
        returning t.user_id = ${userId}::uuid as mine`
      return row.mine
    },
  }
}

export type TraceOwners = ReturnType<typeof createTraceOwners>
