// The chat stream's wire contract: its events, each one's payload, the `id:` rule and the framing.
// The server writes frames with formatFrame, the client library reads them with toReceivedFrame
// and maps them to its own events (../client/types.ts), which the chat page shows. Web standards
// only, like the client: it runs unchanged in browsers, Node and Deno.
import { utf8Length } from '../utf8.ts'

/** A piece of the answer. Deltas are numbered 1, 2, 3… per stream. */
export interface DeltaFrame { trace_id: string; seq: number; delta: string }
/** The answer is complete and stored. */
export interface DoneFrame {
  trace_id: string
  /** The stored answer's id (the stream's `x-stream-id`). */
  message_id: string
  finish_reason: string
  usage: { input_tokens: number; output_tokens: number }
  /** The server's time to first token, from its request start. */
  ttfb_ms: number
  duration_ms: number
}
/** The stream ended without an answer; `code` is one of README "Errors". */
export interface ErrorFrame { trace_id: string; code: string; message: string }

/** Every event of the chat stream, with its payload. */
export interface ChatFrames {
  'chat.delta': DeltaFrame
  'chat.done': DoneFrame
  error: ErrorFrame
}
export type ChatEventName = keyof ChatFrames

/** The JSON transport's answer (docs/chat.md "Transports"): the done frame's fields and the whole text. */
export interface ChatAnswer extends DoneFrame { content: string }

/**
 * The `id:` rule: a delta's id is its seq, and no other frame has one, so the last event id a
 * client holds (its `Last-Event-ID` on a resume) is the seq of the last delta it has; 0 or none
 * for none yet.
 */
export const toEventId = (seq: number): string => String(seq)

/** The seq a `Last-Event-ID` names (0 for none), or undefined when it is not a non-negative decimal integer. */
export function toSeqOfEventId(id: string | null): number | undefined {
  const raw = (id ?? '').trim()
  if (raw === '') return 0
  return SEQ.test(raw) ? Number(raw) : undefined
}

const SEQ = /^\d{1,15}$/

/**
 * One frame per event: `event:`, the `id:` where the rule gives one, and the payload as one JSON
 * object on one `data:` line, LF endings. JSON.stringify never emits a raw newline, so a payload
 * cannot break the framing.
 */
export const formatFrame: { readonly [E in ChatEventName]: (frame: ChatFrames[E]) => string } = {
  'chat.delta': (f) => `event: chat.delta\nid: ${toEventId(f.seq)}\ndata: ${JSON.stringify(f)}\n\n`,
  'chat.done': (f) => `event: chat.done\ndata: ${JSON.stringify(f)}\n\n`,
  error: (f) => `event: error\ndata: ${JSON.stringify(f)}\n\n`,
}
export const formatDelta = formatFrame['chat.delta']
export const formatDone = formatFrame['chat.done']
export const formatError = formatFrame.error
export const formatComment = (text: string) => `: ${text}\n\n`

/** A payload as read off the wire: the contract's field names, their values not yet checked. */
export type Received<T> = { readonly [K in keyof T]?: unknown }

/** A frame of the chat stream as a reader got it. */
export type ReceivedFrame = { [E in ChatEventName]: { event: E; id: string; data: Received<ChatFrames[E]> } }[ChatEventName]

const isChatEvent = (name: string): name is ChatEventName => Object.prototype.hasOwnProperty.call(formatFrame, name)

/**
 * A parsed SSE event (./parse.ts) as a frame of the chat stream; undefined for an event that
 * is not one (a proxy's, a newer server's: ignored, as EventSource would). Throws SyntaxError
 * when the data is not JSON.
 */
export function toReceivedFrame(event: { event: string; data: string; id: string }): ReceivedFrame | undefined {
  if (!isChatEvent(event.event)) return undefined
  return { event: event.event, id: event.id, data: JSON.parse(event.data) } as ReceivedFrame
}

/** One frame as formatFrame wrote it (a stored terminal frame), read back; undefined if it is no chat event. */
export function readFrame(text: string): ReceivedFrame | undefined {
  const field = (line: RegExp) => line.exec(text)?.[1] ?? ''
  return toReceivedFrame({ event: field(EVENT_LINE), id: field(ID_LINE), data: field(DATA_LINE) || '{}' })
}

const EVENT_LINE = /^event: (.*)$/m
const ID_LINE = /^id: (.*)$/m
const DATA_LINE = /^data: (.*)$/m

/** Everything of an empty delta frame but its two seq digits and the delta's `""`. */
const DELTA_FRAME_FIXED = utf8Length(formatDelta({ trace_id: '', seq: 0, delta: '' })) - 2 - 2

/** UTF-8 bytes of formatDelta(f) without building the frame (the trace id is ASCII hex). */
export function deltaFrameBytes(f: DeltaFrame): number {
  return DELTA_FRAME_FIXED + f.trace_id.length + 2 * String(f.seq).length + utf8Length(JSON.stringify(f.delta))
}
