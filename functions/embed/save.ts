import type { Span } from '@opentelemetry/api'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import { inSpan } from '../../shared/telemetry/spans.ts'
import { toBatches } from './batches.ts'
import { EMBED_DB, type EmbedContext } from './context.ts'

export interface EmbeddingsWrite {
  userId: string
  traceId: string
  /** The message embedded, or else the document whose chunks these are. */
  message?: { id: string }
  documentId: string | null
  metadata: Record<string, unknown>
  texts: string[]
  /** One per text, in text order. */
  vectors: number[][]
}

/**
 * Stores the embeddings in one transaction, each statement in its span: a message's one row,
 * or a document's chunks (replacing the document's earlier ones) in `batchSize` inserts. The ids.
 */
export async function saveEmbeddings(ctx: Pick<EmbedContext, 'tracer' | 'store' | 'model' | 'dimension' | 'batchSize'>, root: Span, w: EmbeddingsWrite): Promise<string[]> {
  const { tracer, store, model, dimension } = ctx
  const column = await store.embeddingColumn()
  return store.transaction(async (tx) => {
    if (w.message) {
      const id = await inSpan(tracer, root, 'insert message_embeddings', { ...EMBED_DB, [ATTR.dbOperation]: 'insert', [ATTR.dbCollection]: 'message_embeddings' },
        () => store.upsertMessageEmbedding(tx, column, {
          message_id: w.message!.id, user_id: w.userId, model, dimension, embedding: w.vectors[0], trace_id: w.traceId,
        }))
      return [id]
    }
    const dbChunks = { ...EMBED_DB, [ATTR.dbCollection]: 'document_embeddings' }
    await inSpan(tracer, root, 'delete document_embeddings', { ...dbChunks, [ATTR.dbOperation]: 'delete' },
      () => store.replaceDocument(tx, w.userId, w.documentId!))
    const rows = w.texts.map((content, i) => ({ chunk_index: i, content, embedding: w.vectors[i] }))
    const document = { document_id: w.documentId!, user_id: w.userId, metadata: w.metadata, model, dimension, trace_id: w.traceId }
    const out: string[] = []
    for (const batch of toBatches(rows, ctx.batchSize)) {
      out.push(...await inSpan(tracer, root, 'insert document_embeddings', { ...dbChunks, [ATTR.dbOperation]: 'insert', [ATTR.dbBatchSize]: batch.length },
        () => store.insertChunks(tx, column, document, batch)))
    }
    return out
  })
}
