// One HTTP attempt of a chat: send, classify the answer, read the SSE stream or the JSON document.
// It decides nothing about retrying; it reports what happened and the loop in chat.ts decides.
import { toEventId, toReceivedFrame, type ChatAnswer, type Received } from '../sse/frames.ts'
import { parseSSE } from '../sse/parse.ts'
import { parseRetryAfter, retryReasonOf } from './backoff.ts'
import { toDelta, toDoneEvent, toStreamError } from './from-wire.ts'
import { toSeqVerdict } from './sequence.ts'
import type { DoneEvent, ErrorEvent, RetryReason, Transport } from './types.ts'

export interface AttemptState {
  /** Highest seq held; deltas are accepted only in order from here. */
  lastSeq: number
  text: string
  traceId: string | null
  /** The server's id for the stream (`x-stream-id`): what a resume names. Null from a server that sends none. */
  streamId: string | null
}

export interface AttemptRequest {
  url: string
  headers: Record<string, string>
  body: string
  /** Resume the stream named by state.streamId (state.traceId for a server without stream ids) from state.lastSeq. */
  resume: boolean
  /** Ask for the JSON document instead of the stream. */
  json: boolean
  signal: AbortSignal
  fetch: typeof fetch
  now: () => number
  /** See ChatOptions.idleTimeoutMs; undefined = from the server's x-heartbeat-seconds. */
  idleTimeoutMs?: number
}

export interface AttemptHooks {
  /** Response headers of a 2xx arrived. */
  onOpen(traceId: string | null, transport: Transport, resumedFrom: number | null): void
  /** A new in-order delta; state.text and state.lastSeq are already updated. */
  onDelta(seq: number, text: string): void
  onStreamRetry(ms: number): void
}

export type AttemptOutcome =
  | { kind: 'done'; event: Omit<DoneEvent, 'client_ttfb_ms'> }
  | { kind: 'error'; event: ErrorEvent }
  | { kind: 'aborted' }
  /** The server no longer holds the stream a resume asked for. */
  | { kind: 'gone'; event: ErrorEvent }
  /** No response at all: the server may never have seen the request. */
  | { kind: 'network'; message: string }
  /** A status worth retrying (429, 408, 5xx). */
  | { kind: 'status'; reason: RetryReason; retryAfterMs: number | null; event: ErrorEvent }
  /** The server answered and then the body broke off, or skipped a seq: resume. */
  | { kind: 'cut'; reason: 'stream_cut' | 'sequence_gap'; message: string }

/** Codes after which a new request (not a retry of this one) may well succeed. */
const TRANSIENT_CODES = new Set(['provider_unavailable', 'provider_error', 'provider_stream_error', 'database_unavailable', 'rate_limited', 'stream_cut'])

export function toErrorEvent(code: string, message: string, traceId: string | null, status?: number): ErrorEvent {
  const retryable = status !== undefined ? retryReasonOf(status) !== null : TRANSIENT_CODES.has(code)
  return { type: 'error', code, message, trace_id: traceId, retryable, ...(status !== undefined ? { status } : {}) }
}

async function readErrorBody(res: Response, traceId: string | null): Promise<ErrorEvent> {
  let code = `http_${res.status}`
  let message = res.statusText || `HTTP ${res.status}`
  try {
    const body = JSON.parse(await res.text()) as { error?: { code?: unknown; message?: unknown; trace_id?: unknown } }
    if (typeof body.error?.code === 'string') code = body.error.code
    if (typeof body.error?.message === 'string') message = body.error.message
    if (typeof body.error?.trace_id === 'string') traceId = body.error.trace_id
  } catch {
    // Not our JSON (a proxy's page, an empty body): the status says enough.
  }
  return toErrorEvent(code, message, traceId, res.status)
}

const isAbort = (err: unknown, signal: AbortSignal) => signal.aborted || (err as { name?: string })?.name === 'AbortError'
const messageOf = (err: unknown) => String((err as Error)?.message ?? err)

export async function runAttempt(req: AttemptRequest, state: AttemptState, hooks: AttemptHooks): Promise<AttemptOutcome> {
  const headers: Record<string, string> = {
    ...req.headers,
    'content-type': 'application/json',
    accept: req.json ? 'application/json' : 'text/event-stream',
  }
  if (req.resume && (state.streamId || state.traceId)) {
    if (state.streamId) headers['x-resume-stream-id'] = state.streamId
    else headers['x-resume-trace-id'] = state.traceId!
    headers['last-event-id'] = toEventId(state.lastSeq)
  }
  // The attempt's own signal: the caller's abort, or the idle watchdog's (see readStream).
  const attempt = new AbortController()
  const forward = () => attempt.abort(req.signal.reason)
  if (req.signal.aborted) forward()
  else req.signal.addEventListener('abort', forward, { once: true })
  try {
    return await send(req, headers, state, hooks, attempt)
  } finally {
    req.signal.removeEventListener('abort', forward)
  }
}

async function send(req: AttemptRequest, headers: Record<string, string>, state: AttemptState, hooks: AttemptHooks, attempt: AbortController): Promise<AttemptOutcome> {
  let res: Response
  try {
    res = await req.fetch(req.url, { method: 'POST', headers, body: req.body, signal: attempt.signal })
  } catch (err) {
    if (isAbort(err, req.signal)) return { kind: 'aborted' }
    return { kind: 'network', message: messageOf(err) }
  }
  const traceId = res.headers.get('x-trace-id') ?? state.traceId

  if (!res.ok) {
    const event = await readErrorBody(res, traceId).catch(() => toErrorEvent(`http_${res.status}`, `HTTP ${res.status}`, traceId, res.status))
    if (req.signal.aborted) return { kind: 'aborted' }
    if (res.status === 410 && req.resume) return { kind: 'gone', event }
    const reason = retryReasonOf(res.status)
    if (reason) return { kind: 'status', reason, retryAfterMs: parseRetryAfter(res.headers.get('retry-after')), event }
    return { kind: 'error', event }
  }

  const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase()
  if (type === 'application/json') return readJson(res, req, state, hooks)
  if (type !== 'text/event-stream' || !res.body) {
    await res.body?.cancel().catch(() => {})
    return { kind: 'error', event: toErrorEvent('invalid_response', `expected text/event-stream or application/json, got "${type || 'nothing'}"`, traceId) }
  }
  if (traceId) state.traceId = traceId
  state.streamId = res.headers.get('x-stream-id') ?? state.streamId
  const resumedFrom = req.resume ? Number(res.headers.get('x-resumed-from') ?? state.lastSeq) : null
  hooks.onOpen(traceId, 'sse', resumedFrom)
  const heartbeatS = Number(res.headers.get('x-heartbeat-seconds'))
  const idleMs = req.idleTimeoutMs ?? (heartbeatS > 0 ? 3 * heartbeatS * 1000 : DEFAULT_IDLE_MS)
  return readStream(res.body, req, state, hooks, idleMs > 0 ? watchIdle(idleMs, attempt) : undefined)
}

const DEFAULT_IDLE_MS = 45_000

interface IdleWatch {
  /** Counts a chunk as a sign of life. */
  seen(): void
  readonly fired: boolean
  readonly ms: number
  stop(): void
}

/**
 * A half-open connection (a NAT or proxy that forgot it) delivers nothing and never closes: only
 * silence tells. One timer per stream, re-armed lazily; a chunk costs one assignment.
 */
function watchIdle(ms: number, attempt: AbortController): IdleWatch {
  let last = Date.now()
  let fired = false
  let timer: ReturnType<typeof setTimeout>
  const check = () => {
    const quiet = Date.now() - last
    if (quiet < ms) { timer = setTimeout(check, ms - quiet); return }
    fired = true
    attempt.abort(new Error(`no byte for ${Math.round(ms / 1000)} s`))
  }
  timer = setTimeout(check, ms)
  return {
    seen() { last = Date.now() },
    get fired() { return fired },
    ms,
    stop() { clearTimeout(timer) },
  }
}

/** Passes the body through, telling the watch about every chunk. */
function watched(body: ReadableStream<Uint8Array>, idle: IdleWatch | undefined): ReadableStream<Uint8Array> {
  if (!idle) return body
  return body.pipeThrough(new TransformStream<Uint8Array, Uint8Array>({ transform(chunk, c) { idle.seen(); c.enqueue(chunk) } }))
}

async function readStream(body: ReadableStream<Uint8Array>, req: AttemptRequest, state: AttemptState, hooks: AttemptHooks, idle?: IdleWatch): Promise<AttemptOutcome> {
  try {
    return await readFrames(watched(body, idle), req, state, hooks, idle)
  } finally {
    idle?.stop()
  }
}

async function readFrames(body: ReadableStream<Uint8Array>, req: AttemptRequest, state: AttemptState, hooks: AttemptHooks, idle?: IdleWatch): Promise<AttemptOutcome> {
  try {
    for await (const ev of parseSSE(body, { onRetry: hooks.onStreamRetry })) {
      // Frames read in the same chunk as the one whose callback aborted are not delivered.
      if (req.signal.aborted) return { kind: 'aborted' }
      const frame = toReceivedFrame(ev)
      if (frame?.event === 'chat.delta') {
        const { seq, text } = toDelta(frame.data, frame.id)
        const verdict = toSeqVerdict(state.lastSeq, seq)
        if (verdict === 'duplicate') continue
        // Leaving the loop cancels the body; the loop resumes from the last seq held.
        if (verdict === 'gap') return { kind: 'cut', reason: 'sequence_gap', message: `expected seq ${state.lastSeq + 1}, got ${seq}` }
        state.lastSeq = seq
        state.text += text
        hooks.onDelta(seq, text)
      } else if (frame?.event === 'chat.done') {
        return { kind: 'done', event: toDoneEvent(frame.data) }
      } else if (frame?.event === 'error') {
        const e = toStreamError(frame.data)
        return { kind: 'error', event: toErrorEvent(e.code, e.message, e.trace_id ?? state.traceId) }
      }
      // Other event types are not ours (a proxy's, a future server's): ignored, as EventSource would.
    }
  } catch (err) {
    if (idle?.fired && !req.signal.aborted) {
      return { kind: 'cut', reason: 'stream_cut', message: `no byte for ${Math.round(idle.ms / 1000)} s: the connection looks half-open` }
    }
    if (isAbort(err, req.signal)) return { kind: 'aborted' }
    if (err instanceof SyntaxError) {
      return { kind: 'error', event: toErrorEvent('invalid_response', `a frame is not valid JSON: ${err.message}`, state.traceId) }
    }
    return { kind: 'cut', reason: 'stream_cut', message: messageOf(err) }
  }
  if (req.signal.aborted) return { kind: 'aborted' }
  return { kind: 'cut', reason: 'stream_cut', message: 'the stream ended before chat.done' }
}

async function readJson(res: Response, req: AttemptRequest, state: AttemptState, hooks: AttemptHooks): Promise<AttemptOutcome> {
  const headerTrace = res.headers.get('x-trace-id')
  let doc: Received<ChatAnswer>
  try {
    doc = await res.json() as Received<ChatAnswer>
  } catch (err) {
    if (isAbort(err, req.signal)) return { kind: 'aborted' }
    if (err instanceof SyntaxError) return { kind: 'error', event: toErrorEvent('invalid_response', 'the JSON answer is not valid JSON', headerTrace ?? state.traceId) }
    // The server answered (it has the request): resuming is the only retry that cannot ask twice.
    if (headerTrace) state.traceId = headerTrace
    state.streamId = res.headers.get('x-stream-id') ?? state.streamId
    return { kind: 'cut', reason: 'stream_cut', message: messageOf(err) }
  }
  const traceId = typeof doc.trace_id === 'string' ? doc.trace_id : headerTrace ?? state.traceId
  state.traceId = traceId
  state.streamId = res.headers.get('x-stream-id') ?? state.streamId
  const content = typeof doc.content === 'string' ? doc.content : ''
  // A JSON answer is the whole text. After deltas already held (only possible if the server flipped
  // transport between a stream and its resume), keep the part not yet shown, if it is the same text.
  if (!content.startsWith(state.text)) {
    return { kind: 'error', event: toErrorEvent('invalid_response', 'the JSON answer does not continue the text already received', traceId) }
  }
  hooks.onOpen(traceId, 'http', req.resume ? state.lastSeq : null)
  const rest = content.slice(state.text.length)
  if (rest !== '' || state.lastSeq === 0) {
    state.lastSeq += 1
    state.text += rest
    hooks.onDelta(state.lastSeq, rest)
  }
  return { kind: 'done', event: toDoneEvent(doc) }
}
