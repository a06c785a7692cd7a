import { countTokens } from '../providers/tokens.ts'
import type { FinishEvent, ProviderFailure } from './provider-read.ts'
import type { EndStatus } from './frame-log.ts'
import { round, type Answer, type EndReason, type RunFacts } from './run-record.ts'
import type { Outcome } from './source.ts'

/** What a run has produced so far: its text, its frames' count and arrival offsets, its TTFB. */
export interface RunTally {
  text: string
  seq: number
  /** ms from the request's arrival to the first delta. */
  ttfbMs: number | undefined
  offsets: number[]
}

export const newTally = (): RunTally => ({ text: '', seq: 0, ttfbMs: undefined, offsets: [] })

/** Counts a delta that arrived `atMs` after the request did; true for the first one. */
export function addDelta(t: RunTally, text: string, atMs: number): boolean {
  const first = t.ttfbMs === undefined
  if (first) t.ttfbMs = atMs
  t.offsets.push(round(atMs))
  t.text += text
  t.seq += 1
  return first
}

/** The facts a run's spans and `chat stream ended` line record. */
export function toRunFacts(t: RunTally, end: { reason: EndReason; answer: Omit<Answer, 'content'>; estimated: boolean; durationMs: number; resumes: number }): RunFacts {
  return { ...end, text: t.text, frames: t.seq, bytes: 0, offsets: t.offsets, ttfbMs: t.ttfbMs }
}

/** Input + output tokens the run cost: the provider's usage, else an estimate (nothing when no delta came). */
export function tokensUsedBy(t: RunTally, answer: Omit<Answer, 'content'>, estimatedInputTokens: number): number {
  if (answer.input_tokens !== null) return answer.input_tokens + (answer.output_tokens ?? 0)
  return t.seq === 0 ? 0 : estimatedInputTokens + countTokens(t.text)
}

/** What the model finished with, as stored. */
export const toCompleteAnswer = (e: FinishEvent): Omit<Answer, 'content'> => ({
  status: 'complete', finish_reason: e.finish_reason, input_tokens: e.usage.input_tokens, output_tokens: e.usage.output_tokens,
})

/** A run the provider failed is stored as an error, with no usage. */
export const FAILED_ANSWER: Omit<Answer, 'content'> = { status: 'error', finish_reason: 'error', input_tokens: null, output_tokens: null }

export const toFailureOutcome = (f: ProviderFailure): Outcome =>
  ({ kind: 'error', code: f.code, message: f.message, ...(f.retryAfter !== undefined ? { retryAfter: f.retryAfter } : {}) })

/** How the run ended, for its final frame, the JSON transport and the handler's bookkeeping. */
export function toOutcome(reason: EndReason, failure: Outcome | undefined, messageId: string | undefined, answer: Omit<Answer, 'content'>,
  run: { text: string; ttfbMs: number | undefined; traceId: string; startedAt: number }, now = performance.now()): Outcome {
  if (failure) return failure
  if (reason === 'client_abort') return { kind: 'cut' }
  if (messageId === undefined) return { kind: 'error', code: 'database_unavailable', message: 'the answer could not be stored' }
  return {
    kind: 'done', content: run.text,
    done: {
      trace_id: run.traceId, message_id: messageId, finish_reason: answer.finish_reason ?? 'stop',
      usage: { input_tokens: answer.input_tokens ?? 0, output_tokens: answer.output_tokens ?? 0 },
      ttfb_ms: round(run.ttfbMs ?? 0), duration_ms: round(now - run.startedAt),
    },
  }
}

export const toEndStatus = (outcome: Outcome): EndStatus => outcome.kind === 'done' ? 'complete' : outcome.kind === 'cut' ? 'cut' : 'error'
