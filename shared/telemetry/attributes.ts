/**
 * Attribute keys this project sets. GenAI keys follow the OpenTelemetry GenAI
 * semantic conventions; `streamscope.*` keys are our own.
 */
export const ATTR = {
  function: 'streamscope.function',
  ttfbMs: 'streamscope.ttfb_ms',
  frames: 'streamscope.stream.frames',
  bytes: 'streamscope.stream.bytes',
  endReason: 'streamscope.stream.end_reason',
  /** number[]: arrival offset (ms from request start) of each delta frame. */
  frameOffsetsMs: 'streamscope.stream.frame_offsets_ms',
  /** Gaps between frames longer than 2 s. */
  stalls: 'streamscope.stream.stalls',
  maxGapMs: 'streamscope.stream.max_gap_ms',
  /** true when token usage was estimated locally (the provider sent none). */
  usageEstimated: 'streamscope.usage.estimated',
  /** Load-test run id, from the `x-streamscope-run-id` request header. */
  runId: 'streamscope.run_id',
  /** chat: 'sse' or 'http' (the JSON backout transport). */
  transport: 'streamscope.chat.transport',
  /** chat: the stream's id, made by the server (x-stream-id; the answer is stored under it). */
  streamId: 'streamscope.stream.id',
  /** chat: connections that resumed the stream (Last-Event-ID). */
  resumes: 'streamscope.stream.resumes',
  /** chat resume: the stream resumed, and the last seq the client already had. */
  resumeTraceId: 'streamscope.resume.trace_id',
  resumeFromSeq: 'streamscope.resume.from_seq',
  /** chat `select messages`: history messages sent to the model, dropped for the token budget, their tokens. */
  historySent: 'streamscope.history.messages_sent',
  historyDropped: 'streamscope.history.messages_dropped',
  historyTokens: 'streamscope.history.tokens',
  /** A request span ended by the runtime's shutdown (beforeunload): its reason (wall_clock, termination…). */
  shutdownReason: 'streamscope.shutdown.reason',
  /** Only when CAPTURE_CONTENT is on (GenAI conventions: JSON arrays of messages). */
  inputMessages: 'gen_ai.input.messages',
  outputMessages: 'gen_ai.output.messages',
  operation: 'gen_ai.operation.name',
  provider: 'gen_ai.provider.name',
  requestModel: 'gen_ai.request.model',
  responseModel: 'gen_ai.response.model',
  maxTokens: 'gen_ai.request.max_tokens',
  stream: 'gen_ai.request.stream',
  finishReasons: 'gen_ai.response.finish_reasons',
  timeToFirstChunk: 'gen_ai.response.time_to_first_chunk',
  inputTokens: 'gen_ai.usage.input_tokens',
  outputTokens: 'gen_ai.usage.output_tokens',
  conversationId: 'gen_ai.conversation.id',
  errorType: 'error.type',
  userId: 'enduser.id',
  httpMethod: 'http.request.method',
  httpRoute: 'http.route',
  httpStatus: 'http.response.status_code',
  dbOperation: 'db.operation.name',
  dbCollection: 'db.collection.name',
  dbSystem: 'db.system.name',
  /** Rows of a batched insert (embed's document chunks). */
  dbBatchSize: 'db.operation.batch.size',
  /** The upstream provider's host, when it is a remote one. */
  serverAddress: 'server.address',
  /** `rate_limit.exceeded` event: which limit (tokens_per_minute, requests_per_minute) and the Retry-After it answered. */
  rateLimitLimit: 'streamscope.rate_limit.limit',
  rateLimitRetryAfterS: 'streamscope.rate_limit.retry_after_s',
  /** `client.disconnected` event: how long the run waits for a resume before it is cut. */
  resumeGraceMs: 'streamscope.resume.grace_ms',
  /** The beacon's `client timing` span: what the client measured. */
  clientTtfbMs: 'streamscope.client.ttfb_ms',
  clientDurationMs: 'streamscope.client.duration_ms',
  /** embed: inputs in the request, chunks embedded, provider calls made; per call, its inputs and the vectors' dimension. */
  embedInputs: 'streamscope.embed.inputs',
  embedChunks: 'streamscope.embed.chunks',
  embedBatches: 'streamscope.embed.batches',
  embedBatchInputs: 'streamscope.embed.batch_inputs',
  embeddingDimension: 'gen_ai.embeddings.dimension.count',
} as const
