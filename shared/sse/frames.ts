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
