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
} as const
