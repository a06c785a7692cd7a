import type { Span } from '@opentelemetry/api'
import { ATTR } from '../../shared/telemetry/attributes.ts'
import type { Logger } from '../../shared/telemetry/logger.ts'
import type { ChatMessage } from '../providers/types.ts'
import { toInputMessages, toOutputMessages } from './capture.ts'
import type { Outcome } from './source.ts'
import { toStreamStats } from './stream-stats.ts'

export type EndReason = 'done' | 'error' | 'client_abort' | 'timeout'

export interface Answer {
  content: string
  status: 'complete' | 'cut' | 'error'
  finish_reason: string | null
  input_tokens: number | null
  output_tokens: number | null
}

/** What a run did, as its spans and its `chat stream ended` line record it. */
export interface RunFacts {
  reason: EndReason
  answer: Omit<Answer, 'content'>
  text: string
  /** The provider counted nothing itself (usage estimated locally). */
  estimated: boolean
  frames: number
  bytes: number
  offsets: number[]
  ttfbMs: number | undefined
  durationMs: number
  resumes: number
}

export const round = (ms: number) => Math.round(ms * 10) / 10

const usageOf = (f: RunFacts) => f.answer.input_tokens !== null
  ? { [ATTR.inputTokens]: f.answer.input_tokens, [ATTR.outputTokens]: f.answer.output_tokens ?? 0, [ATTR.usageEstimated]: f.estimated }
  : {}

/** Closes the provider span with what the model finished with (content only when captured). */
export function recordProviderEnd(span: Span, f: RunFacts, capture: { messages: ChatMessage[] } | undefined): void {
  span.setAttributes({ [ATTR.finishReasons]: f.answer.finish_reason ? [f.answer.finish_reason] : [], ...usageOf(f) })
  if (capture) {
    span.setAttributes({
      [ATTR.inputMessages]: toInputMessages(capture.messages),
      [ATTR.outputMessages]: toOutputMessages(f.text, f.answer.finish_reason),
    })
  }
  span.end()
}

/** The stream's attributes on the request span and its `chat stream ended` line; ends the span. */
export function recordRunEnd(root: Span, logger: Logger, f: RunFacts, outcome: Outcome, captureContent: boolean): void {
  const stats = toStreamStats(f.offsets)
  root.setAttributes({
    [ATTR.frames]: f.frames,
    [ATTR.bytes]: f.bytes,
    [ATTR.endReason]: f.reason,
    [ATTR.frameOffsetsMs]: f.offsets,
    [ATTR.stalls]: stats.stalls,
    [ATTR.maxGapMs]: stats.maxGapMs,
    [ATTR.resumes]: f.resumes,
    ...(f.ttfbMs !== undefined ? { [ATTR.ttfbMs]: round(f.ttfbMs) } : {}),
    ...usageOf(f),
    ...(outcome.kind === 'error' ? { [ATTR.errorType]: outcome.code } : {}),
  })
  logger.info('chat stream ended', {
    end_reason: f.reason, frames: f.frames, ttfb_ms: f.ttfbMs, duration_ms: f.durationMs, resumes: f.resumes,
    ...(captureContent ? { [ATTR.outputMessages]: toOutputMessages(f.text, f.answer.finish_reason) } : {}),
  }, root)
  root.end()
}
