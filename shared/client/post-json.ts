// A JSON POST with the chat client's retry policy (network failures, 408, 429, 5xx; backoff with
// full jitter; retry-after honoured), for request/response calls such as embed.
import { backoffDelay, parseRetryAfter, RETRY_DEFAULTS, retryReasonOf, sleep as defaultSleep } from './backoff.ts'
import type { Endpoint } from './endpoint.ts'
import type { RetryEvent, RetryOptions, RetryReason } from './types.ts'

/** A call that failed for good: the server's stable code, or network_error / aborted / invalid_response. */
export class ClientError extends Error {
  override name = 'ClientError'
  constructor(
    readonly code: string,
    message: string,
    readonly trace_id: string | null,
    readonly status: number | null,
    /** A later call may succeed (the attempts ran out on a transient failure). */
    readonly retryable: boolean,
  ) {
    super(message)
  }
}

export interface PostJsonOptions extends RetryOptions {
  endpoint: Endpoint
  url: string
  body: unknown
  headers?: Record<string, string>
  signal?: AbortSignal
  onRetry?: (event: RetryEvent) => void
}

export interface JsonAnswer<T> { status: number; body: T; traceId: string | null }

export async function postJson<T>(o: PostJsonOptions): Promise<JsonAnswer<T>> {
  const fetchImpl = o.fetch ?? globalThis.fetch.bind(globalThis)
  const wait = o.sleep ?? defaultSleep
  const maxAttempts = o.maxAttempts ?? RETRY_DEFAULTS.maxAttempts
  const backoff = { baseDelayMs: o.baseDelayMs ?? RETRY_DEFAULTS.baseDelayMs, maxDelayMs: o.maxDelayMs ?? RETRY_DEFAULTS.maxDelayMs, random: o.random ?? Math.random }
  const body = JSON.stringify(o.body)
  const aborted = () => new ClientError('aborted', String((o.signal?.reason as Error)?.message ?? 'aborted'), null, null, false)

  for (let attempt = 1; ; attempt++) {
    if (o.signal?.aborted) throw aborted()
    let failure: ClientError
    let reason: RetryReason
    let retryAfterMs: number | null = null
    try {
      const res = await fetchImpl(o.url, {
        method: 'POST',
        headers: { ...await o.endpoint.headers(), ...o.headers, 'content-type': 'application/json', accept: 'application/json' },
        body,
        signal: o.signal,
      })
      const traceId = res.headers.get('x-trace-id')
      const text = await res.text()
      let json: unknown
      try {
        json = JSON.parse(text)
      } catch {
        json = undefined
      }
      if (res.ok) {
        if (json === undefined) throw new ClientError('invalid_response', `HTTP ${res.status} with a body that is not JSON`, traceId, res.status, false)
        return { status: res.status, body: json as T, traceId }
      }
      const err = (json as { error?: { code?: unknown; message?: unknown; trace_id?: unknown } } | undefined)?.error
      const code = typeof err?.code === 'string' ? err.code : `http_${res.status}`
      const message = typeof err?.message === 'string' ? err.message : `HTTP ${res.status}`
      const errTrace = typeof err?.trace_id === 'string' ? err.trace_id : traceId
      const retry = retryReasonOf(res.status)
      failure = new ClientError(code, message, errTrace, res.status, retry !== null)
      if (!retry) throw failure
      reason = retry
      retryAfterMs = parseRetryAfter(res.headers.get('retry-after'))
    } catch (err) {
      if (err instanceof ClientError) throw err
      if (o.signal?.aborted) throw aborted()
      failure = new ClientError('network_error', String((err as Error)?.message ?? err), null, null, true)
      reason = 'network'
    }
    if (attempt >= maxAttempts) throw failure
    if (retryAfterMs !== null && retryAfterMs > RETRY_DEFAULTS.maxRetryAfterMs) throw failure
    const delay = retryAfterMs ?? backoffDelay(attempt - 1, backoff)
    o.onRetry?.({ type: 'retry', attempt, delay_ms: delay, reason })
    try {
      await wait(delay, o.signal)
    } catch {
      throw aborted()
    }
  }
}
