import type { Sql } from 'postgres'
import type { ChatMessage } from '../providers/types.ts'

export interface NewMessage {
  session_id: string
  user_id: string
  role: ChatMessage['role']
  content: string
  status: 'complete' | 'cut' | 'error'
  model: string | null
  finish_reason: string | null
  input_tokens: number | null
  output_tokens: number | null
  trace_id: string
  /** The client's Idempotency-Key (user messages only); unique per user. */
  idempotency_key?: string | null
}

/** The stream row a question's answer is logged under (stream-log-store.ts), made with the question. */
export interface NewStream {
  stream_id: string
  trace_id: string
  span_id: string
  model: string
}

export function createMessageStore(sql: Sql) {
  return {
    async insert(message: NewMessage): Promise<string> {
      const [row] = await sql<{ id: string }[]>`insert into public.messages ${sql(message)} returning id`
      return row.id
    },
    /**
     * Stores the assistant's answer once, under the id the server made for its stream: a
     * retry after a lost reply finds the row its first attempt committed.
     */
    async insertAnswer(message: NewMessage & { id: string; role: 'assistant' }): Promise<string> {
      await sql`insert into public.messages ${sql(message)} on conflict (id) do nothing`
      return message.id
    },
    /**
     * Stores the user's question unless one with the same Idempotency-Key is already
     * stored: undefined then (a repeat of a request that did arrive). With `stream`, the
     * stream's log row is made in the same statement, so whoever finds the question finds it.
     */
    async insertOnce(message: NewMessage, stream?: NewStream): Promise<string | undefined> {
      if (!message.idempotency_key && !stream) return this.insert(message)
      const once = message.idempotency_key
        ? sql`on conflict (user_id, idempotency_key) where idempotency_key is not null do nothing`
        : sql``
      if (!stream) {
        const [row] = await sql<{ id: string }[]>`insert into public.messages ${sql(message)} ${once} returning id`
        return row?.id
      }
      const [row] = await sql<{ id: string }[]>`
        with question as (insert into public.messages ${sql(message)} ${once} returning id, user_id, session_id, idempotency_key),
        log as (
          insert into public.chat_streams (stream_id, user_id, session_id, trace_id, span_id, model, idempotency_key)
          select ${stream.stream_id}::uuid, user_id, session_id, ${stream.trace_id}, ${stream.span_id}, ${stream.model}, idempotency_key
          from question
        )
        select id from question`
      return row?.id
    },
    /** The session's latest messages, oldest first, as model input. */
    async history(sessionId: string, userId: string, limit: number): Promise<ChatMessage[]> {
      if (limit <= 0) return []
      const rows = await sql<ChatMessage[]>`
        select role, content from (
          select role, content, created_at from public.messages
          where session_id = ${sessionId} and user_id = ${userId} and status <> 'error'
          order by created_at desc limit ${limit}
        ) recent order by created_at`
      return rows.map((r) => ({ role: r.role, content: r.content }))
    },
  }
}

export type MessageStore = ReturnType<typeof createMessageStore>
