// The streamscope client: chat streams that survive dropped connections, and embeddings uploads.
// Runtime-neutral (browser, Node ≥ 18, Deno); see docs/client.md.
export { streamChat } from './chat.ts'
export { embedTexts, toBatches, type EmbedBatch, type EmbedOptions, type EmbedProgress, type EmbedResult } from './embed.ts'
export { ClientError } from './post-json.ts'
export { backoffDelay, parseRetryAfter, retryReasonOf, NON_RETRYABLE_STATUSES, RETRY_DEFAULTS } from './backoff.ts'
export { createTraceContext, parseTraceparent, toTraceparent } from './traceparent.ts'
export { supabaseFunctionsUrl } from './endpoint.ts'
export type * from './types.ts'
export { subscribeChatDone, subjectOf, type ChatDoneOptions, type ChatDoneSubscription, type RealtimeSupabaseLike } from './realtime.ts'
export type { DoneFrame } from '../sse/frames.ts'
