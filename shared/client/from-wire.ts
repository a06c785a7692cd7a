// The client's events from the wire's frames (../sse/frames.ts, the one declaration of the
// stream). Read leniently: a field a server leaves out becomes null, never an exception.
import { toSeqOfEventId, type DeltaFrame, type DoneFrame, type ErrorFrame, type Received } from '../sse/frames.ts'
import type { DoneEvent, Usage } from './types.ts'

export const asNumber = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null)

function toUsage(u: unknown): Usage {
  const o = (u ?? {}) as Received<DoneFrame['usage']>
  return { input_tokens: asNumber(o.input_tokens), output_tokens: asNumber(o.output_tokens) }
}

/** A done frame, or the JSON transport's answer, as the client's `done` (less the client's own timing). */
export function toDoneEvent(d: Received<DoneFrame>): Omit<DoneEvent, 'client_ttfb_ms'> {
  return {
    type: 'done',
    message_id: String(d.message_id ?? ''),
    finish_reason: typeof d.finish_reason === 'string' ? d.finish_reason : null,
    usage: toUsage(d.usage),
    ttfb_ms: asNumber(d.ttfb_ms),
    duration_ms: asNumber(d.duration_ms),
  }
}

/** A delta frame's seq (from its `id:` if the payload lacks one; NaN, a gap, if neither says) and text. */
export function toDelta(d: Received<DeltaFrame>, id: string): { seq: number; text: string } {
  return { seq: asNumber(d.seq) ?? toSeqOfEventId(id) ?? Number.NaN, text: String(d.delta ?? '') }
}

/** An error frame's code, message and trace id (null when it names none). */
export function toStreamError(d: Received<ErrorFrame>): { code: string; message: string; trace_id: string | null } {
  return { code: String(d.code ?? 'stream_error'), message: String(d.message ?? ''), trace_id: typeof d.trace_id === 'string' ? d.trace_id : null }
}
