import type { JSONValue, Sql, TransactionSql } from 'postgres'
import { transaction } from '../../shared/db/transaction.ts'

/**
 * How the `embedding` columns are typed in this database: pgvector's `vector` where the
 * extension exists (Supabase, PGlite), `real[]` where it does not (Debian's PostgreSQL
 * 15). The migration decides once; the writer asks once and formats for it.
 */
export interface EmbeddingColumn {
  kind: 'vector' | 'array'
  /** The SQL type to cast to, e.g. `"extensions"."vector"` or `real[]` (from the catalog, quoted). */
  type: string
}

export interface ChunkRow {
  chunk_index: number
  content: string
  embedding: number[]
}

export interface DocumentWrite {
  document_id: string
  user_id: string
  metadata: Record<string, unknown>
  model: string
  dimension: number
  trace_id: string
}

export interface MessageWrite {
  message_id: string
  user_id: string
  model: string
  dimension: number
  embedding: number[]
  trace_id: string
}

/** The literal both column types parse: `[1,2]` for vector, `{1,2}` for real[]. */
export function toEmbeddingLiteral(column: EmbeddingColumn, v: number[]): string {
  const body = v.join(',')
  return column.kind === 'vector' ? `[${body}]` : `{${body}}`
}

export async function detectEmbeddingColumn(sql: Sql): Promise<EmbeddingColumn> {
  const rows = await sql<{ table: string; typname: string; schema: string }[]>`
    select c.relname as table, t.typname, n.nspname as schema
    from pg_attribute a
    join pg_class c on c.oid = a.attrelid
    join pg_type t on t.oid = a.atttypid
    join pg_namespace n on n.oid = t.typnamespace
    where a.attrelid in ('public.document_embeddings'::regclass, 'public.message_embeddings'::regclass)
      and a.attname = 'embedding'`
  const kinds = new Set(rows.map((r) => r.typname))
  if (rows.length !== 2 || kinds.size !== 1) throw new Error(`unexpected embedding columns: ${JSON.stringify(rows)}`)
  const { typname, schema } = rows[0]
  if (typname === '_float4') return { kind: 'array', type: 'real[]' }
  if (typname === 'vector') return { kind: 'vector', type: `"${schema.replaceAll('"', '""')}"."vector"` }
  throw new Error(`embedding column has unsupported type ${schema}.${typname}`)
}

/** Reads and writes of the embed function. Writes take the transaction they run in. */
export function createEmbeddingStore(sql: Sql) {
  let column: Promise<EmbeddingColumn> | undefined
  const embeddingColumn = () => (column ??= detectEmbeddingColumn(sql).catch((err) => {
    column = undefined // a database that was down at the first request is asked again
    throw err
  }))

  return {
    embeddingColumn,

    /** The caller's own message, or undefined (someone else's is indistinguishable from none). */
    async findMessage(messageId: string, userId: string): Promise<{ id: string; content: string } | undefined> {
      const [row] = await sql<{ id: string; content: string }[]>`
        select id, content from public.messages where id = ${messageId} and user_id = ${userId}`
      return row
    },

    transaction<T>(fn: (tx: TransactionSql) => Promise<T>): Promise<T> {
      return transaction(sql, fn)
    },

    /**
     * Serialises writers of one document and removes its earlier chunks, so posting a
     * document_id again replaces it and two concurrent posts cannot interleave rows.
     */
    async replaceDocument(tx: TransactionSql, userId: string, documentId: string): Promise<number> {
      await tx`select pg_advisory_xact_lock(hashtextextended(${`embed:${userId}:${documentId}`}, 0))`
      const deleted = await tx`
        delete from public.document_embeddings where user_id = ${userId} and document_id = ${documentId}`
      return deleted.count
    },

    /** One multi-row INSERT for a batch of chunks; ids in chunk order. */
    async insertChunks(tx: TransactionSql, col: EmbeddingColumn, doc: DocumentWrite, rows: ChunkRow[]): Promise<string[]> {
      const inserted = await tx<{ id: string; chunk_index: number }[]>`
        insert into public.document_embeddings
          (document_id, user_id, chunk_index, content, metadata, model, dimension, embedding, trace_id)
        select ${doc.document_id}::uuid, ${doc.user_id}::uuid, t.chunk_index, t.content, ${tx.json(doc.metadata as JSONValue)},
               ${doc.model}, ${doc.dimension}::int, t.embedding::${tx.unsafe(col.type)}, ${doc.trace_id}
        from unnest(${rows.map((r) => r.chunk_index)}::int[], ${rows.map((r) => r.content)}::text[],
                    ${rows.map((r) => toEmbeddingLiteral(col, r.embedding))}::text[]) as t(chunk_index, content, embedding)
        returning id, chunk_index`
      return [...inserted].sort((a, b) => a.chunk_index - b.chunk_index).map((r) => r.id)
    },

    /** One embedding per message and model: embedding a message again replaces it. */
    async upsertMessageEmbedding(tx: TransactionSql, col: EmbeddingColumn, row: MessageWrite): Promise<string> {
      const [inserted] = await tx<{ id: string }[]>`
        insert into public.message_embeddings (message_id, user_id, model, dimension, embedding, trace_id)
        values (${row.message_id}, ${row.user_id}, ${row.model}, ${row.dimension},
                ${toEmbeddingLiteral(col, row.embedding)}::text::${tx.unsafe(col.type)}, ${row.trace_id})
        on conflict (message_id, model) do update
          set user_id = excluded.user_id, dimension = excluded.dimension, embedding = excluded.embedding,
              trace_id = excluded.trace_id, created_at = now()
        returning id`
      return inserted.id
    },
  }
}

export type EmbeddingStore = ReturnType<typeof createEmbeddingStore>
