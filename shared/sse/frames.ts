import { utf8Length } from '../utf8.ts'

/**
 * The chat stream's wire format: one JSON object on one `data:` line, LF endings.
 * JSON.stringify never emits a raw newline, so a payload cannot break the framing.
 */
export interface DeltaFrame { trace_id: string; seq: number; delta: string }
export interface DoneFrame {
  trace_id: string
  message_id: string
  finish_reason: string
  usage: { input_tokens: number; output_tokens: number }
  ttfb_ms: number
  duration_ms: number
}
export interface ErrorFrame { trace_id: string; code: string; message: string }

export const formatDelta = (f: DeltaFrame) => `event: chat.delta\nid: ${f.seq}\ndata: ${JSON.stringify(f)}\n\n`
export const formatDone = (f: DoneFrame) => `event: chat.done\ndata: ${JSON.stringify(f)}\n\n`
export const formatError = (f: ErrorFrame) => `event: error\ndata: ${JSON.stringify(f)}\n\n`
export const formatComment = (text: string) => `: ${text}\n\n`

/** Everything of an empty delta frame but its two seq digits and the delta's `""`. */
const DELTA_FRAME_FIXED = utf8Length(formatDelta({ trace_id: '', seq: 0, delta: '' })) - 2 - 2

/** UTF-8 bytes of formatDelta(f) without building the frame (the trace id is ASCII hex). */
export function deltaFrameBytes(f: DeltaFrame): number {
  return DELTA_FRAME_FIXED + f.trace_id.length + 2 * String(f.seq).length + utf8Length(JSON.stringify(f.delta))
}
