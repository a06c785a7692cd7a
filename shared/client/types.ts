// The typed surface of the chat and embed clients. Web standards only: this folder runs unchanged
// in browsers, Node and Deno, and never imports supabase-js (a Supabase client is read structurally).
// Events that carry a frame's fields take them from the wire contract (../sse/frames.ts).
import type { DeltaFrame, DoneFrame, ErrorFrame } from '../sse/frames.ts'

/** Wire fields as the client hands them on: null where the server left one out. */
type OrNull<T> = { [K in keyof T]: T[K] | null }

export type Usage = OrNull<DoneFrame['usage']>

export type Transport = 'sse' | 'http'

export interface OpenEvent { type: 'open'; trace_id: string; transport: Transport }
/** A new piece of the answer: the frame's `seq`, and its `delta` as `text`. */
export interface DeltaEvent extends Pick<DeltaFrame, 'seq'> { type: 'delta'; text: string }
export interface DoneEvent extends Pick<DoneFrame, 'message_id'>, OrNull<Pick<DoneFrame, 'finish_reason' | 'ttfb_ms' | 'duration_ms'>> {
  type: 'done'
  usage: Usage
  /** Request start (first attempt) to the first delta, as this client saw it. */
  client_ttfb_ms: number | null
}
/**
 * The chat ended without an answer. `code` is a server code (README "Errors"), or a client one:
 * network_error, aborted, stream_gone, invalid_response.
 */
export interface ErrorEvent extends Pick<ErrorFrame, 'code' | 'message'>, OrNull<Pick<ErrorFrame, 'trace_id'>> {
  type: 'error'
  /** The caller may try again (a new request); the client has already used its own attempts. */
  retryable: boolean
  /** HTTP status when the error came from a response. */
  status?: number
}
export interface RetryEvent {
  type: 'retry'
  /** 1 for the first retry. */
  attempt: number
  delay_ms: number
  reason: RetryReason
}
export interface ResumeEvent { type: 'resume'; from_seq: number }
/**
 * The server no longer has the stream being resumed (410 stream_gone: expired, or never logged).
 * With `onGone: 'keep'` (the default) the chat ends with what arrived kept and an `error`; with
 * `'restart'` the same request is sent again as a new chat: the text so far is void, deltas start
 * again at seq 1.
 */
export interface GoneEvent { type: 'gone'; trace_id: string | null; last_seq: number; action: GoneAction }

export type ChatEvent = OpenEvent | DeltaEvent | DoneEvent | ErrorEvent | RetryEvent | ResumeEvent | GoneEvent

export type RetryReason = 'network' | 'status_429' | 'status_5xx' | 'status_408' | 'stream_cut' | 'sequence_gap' | 'fallback_http'
/** `'fail'` is the former name of `'keep'`. */
export type GoneAction = 'keep' | 'restart' | 'fail'

/** How a request finds the functions and authenticates. */
export type EndpointOptions =
  | { supabase: SupabaseLike; url?: undefined; getToken?: undefined }
  | { url: string; getToken?: () => string | null | undefined | Promise<string | null | undefined>; supabase?: undefined }

/**
 * What the clients use of a supabase-js 2.x client. `functionsUrl`, `supabaseUrl` and `supabaseKey`
 * are `protected` in its typings but plain properties at runtime (SupabaseClient's constructor).
 */
export interface SupabaseLike {
  auth: { getSession(): Promise<{ data: { session: { access_token: string } | null } }> }
}

export interface RetryOptions {
  /** Attempts in a row without progress before giving up (a delta received resets the count). Default 5. */
  maxAttempts?: number
  /** First backoff ceiling in ms. Default 500. */
  baseDelayMs?: number
  /** Largest backoff ceiling in ms. Default 10 000. */
  maxDelayMs?: number
  /** Injected for tests: uniform in [0, 1). */
  random?: () => number
  /** Injected for tests; must reject when the signal aborts. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>
  fetch?: typeof fetch
}

export interface ChatCallbacks {
  onEvent?: (event: ChatEvent) => void
  onOpen?: (event: OpenEvent) => void
  onDelta?: (event: DeltaEvent) => void
  onDone?: (event: DoneEvent) => void
  onError?: (event: ErrorEvent) => void
  onRetry?: (event: RetryEvent) => void
  onResume?: (event: ResumeEvent) => void
}

export type ChatOptions = EndpointOptions & RetryOptions & ChatCallbacks & {
  session_id: string
  content: string
  /** One of the server's MODEL_ALLOWLIST; default: its DEFAULT_MODEL. */
  model?: string
  max_tokens?: number
  /** Further body fields, sent as they are. */
  body?: Record<string, unknown>
  signal?: AbortSignal
  /** A W3C traceparent to continue; default: a new trace per chat. */
  traceparent?: string
  /** What to do when a resume finds the stream gone. Default 'keep': end with what arrived and the error; never re-ask the model silently. */
  onGone?: GoneAction
  /** 'auto' (default) starts with SSE and falls back to JSON; 'http' asks for JSON from the start. */
  transport?: 'auto' | Transport
  /**
   * Silence on an open stream (no byte, not even a `: heartbeat` comment) after which the
   * connection is taken for half-open and the stream resumed. Default: 3 × the server's
   * `x-heartbeat-seconds`, or 45 s where it does not say; 0 waits for the socket forever.
   */
  idleTimeoutMs?: number
  /** Network failures in a row before any byte of a stream that switch 'auto' to JSON. Default 2. */
  sseFailuresBeforeFallback?: number
  /** Sent as Idempotency-Key on every attempt of this question (default: a random UUID per call). */
  idempotencyKey?: string
  /** Where to POST {stream_id, trace_id, client_ttfb_ms, client_duration_ms} after `done`. Default: no beacon. */
  beaconUrl?: string
  /** Performance clock, injectable for tests. */
  now?: () => number
}

export interface ChatResult {
  /** The answer: deltas in seq order, each once. */
  text: string
  /** `text` is part of an answer that ended without `done` (an error after some deltas): show it with the error. */
  partial: boolean
  trace_id: string | null
  transport: Transport | null
  done: DoneEvent | null
  error: ErrorEvent | null
}

export interface ChatStream extends AsyncIterable<ChatEvent> {
  /** Settles when the chat ends, whether done, failed or aborted; never rejects. */
  readonly result: Promise<ChatResult>
  /** Same as aborting the signal passed in. */
  abort(): void
}
