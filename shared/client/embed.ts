// embedTexts: stores texts as embeddings through POST /functions/v1/embed, a batch per request,
// with progress and the chat client's retry policy.
import { toEndpoint } from './endpoint.ts'
import { ClientError, postJson } from './post-json.ts'
import type { EndpointOptions, RetryEvent, RetryOptions } from './types.ts'

export interface EmbedProgress {
  /** Inputs stored so far. */
  done: number
  total: number
}

export type EmbedOptions = EndpointOptions & RetryOptions & {
  input: string[]
  /**
   * Inputs per request. Default 16. Ignored when `document_id` is given: a document is written
   * by one request, because posting a document_id again replaces its earlier chunks.
   */
  batchSize?: number
  /** Store every input as one document under this id (created or replaced). */
  document_id?: string
  metadata?: Record<string, unknown>
  onProgress?: (progress: EmbedProgress) => void
  onRetry?: (event: RetryEvent) => void
  signal?: AbortSignal
}

/** What the server answers for one request. */
export interface EmbedBatch {
  trace_id: string
  document_id: string
  ids: string[]
  model: string
  dimension: number
  usage: { input_tokens: number | null }
}

export interface EmbedResult {
  /** Every stored row id, batch after batch. */
  ids: string[]
  document_ids: string[]
  batches: EmbedBatch[]
  model: string | null
  dimension: number | null
  usage: { input_tokens: number }
}

/** Splits `items` into runs of at most `size`, in order. */
export function toBatches<T>(items: readonly T[], size: number): T[][] {
  if (!Number.isInteger(size) || size < 1) throw new RangeError('batchSize must be a positive integer')
  const out: T[][] = []
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size))
  return out
}

/**
 * Each batch is posted with a document_id (the caller's, or a new one per batch), so a retry after
 * a lost response replaces what the first try stored instead of storing it twice.
 */
export async function embedTexts(options: EmbedOptions): Promise<EmbedResult> {
  const { input, metadata, onProgress, signal } = options
  if (!Array.isArray(input) || input.length === 0) throw new ClientError('invalid_request', 'input must be a non-empty array of strings', null, null, false)
  const endpoint = toEndpoint(options)
  const url = endpoint.functionUrl('embed')
  const batches = options.document_id ? [input.slice()] : toBatches(input, options.batchSize ?? 16)

  const result: EmbedResult = { ids: [], document_ids: [], batches: [], model: null, dimension: null, usage: { input_tokens: 0 } }
  let done = 0
  onProgress?.({ done, total: input.length })
  for (const batch of batches) {
    const document_id = options.document_id ?? crypto.randomUUID()
    const { body } = await postJson<EmbedBatch>({
      ...options, endpoint, url, signal,
      body: { input: batch, document_id, ...(metadata ? { metadata } : {}) },
    })
    result.batches.push(body)
    result.ids.push(...body.ids)
    if (!result.document_ids.includes(body.document_id)) result.document_ids.push(body.document_id)
    result.model = body.model
    result.dimension = body.dimension
    result.usage.input_tokens += body.usage?.input_tokens ?? 0
    done += batch.length
    onProgress?.({ done, total: input.length })
  }
  return result
}
