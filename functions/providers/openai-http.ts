import type { OpenAIConfig } from '../../shared/config.ts'
import { ProviderError } from './types.ts'

// What the chat and embeddings providers share: one POST to an OpenAI-compatible API with the
// header timeout, and the mapping of every way it can fail to a ProviderError with a stable code.
// The API key goes into exactly one header here; every message that leaves this module passes
// through `redact`, because upstreams echo keys back (OpenAI's 401 quotes part of it).

export type Fetch = typeof fetch

export interface PostOptions {
  signal: AbortSignal
  traceHeaders?: Record<string, string>
  fetch?: Fetch
}

export interface Posted {
  res: Response
  /** Detaches the caller's signal once the body has been read (or abandoned). */
  release(): void
}

/** POSTs JSON and resolves once a 2xx answer's headers arrive; anything else throws ProviderError. */
export async function postJSON(config: OpenAIConfig, path: string, body: unknown, options: PostOptions): Promise<Posted> {
  const { signal } = options
  signal.throwIfAborted()
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    accept: path.endsWith('/chat/completions') ? 'text/event-stream, application/json' : 'application/json',
    ...options.traceHeaders,
  }
  if (config.apiKey) headers.authorization = `Bearer ${config.apiKey}`

  // One controller carries both the caller's abort and the header timeout. It stays attached to
  // the body, so a caller's abort mid-stream still closes the upstream connection.
  const controller = new AbortController()
  const onAbort = () => controller.abort(signal.reason)
  signal.addEventListener('abort', onAbort, { once: true })
  let timedOut = false
  const timer = setTimeout(() => { timedOut = true; controller.abort() }, config.timeoutMs)
  let res: Response
  try {
    res = await (options.fetch ?? fetch)(`${config.baseUrl}${path}`, {
      method: 'POST',
      headers,
      body: JSON.stringify(body),
      signal: controller.signal,
    })
  } catch (err) {
    signal.removeEventListener('abort', onAbort)
    if (signal.aborted) throw signal.reason
    if (timedOut) throw new ProviderError('provider_unavailable', `no response from ${hostOf(config.baseUrl)} within ${config.timeoutMs} ms`)
    throw new ProviderError('provider_unavailable', redact(`cannot reach ${hostOf(config.baseUrl)}: ${describe(err)}`, config.apiKey))
  } finally {
    clearTimeout(timer)
  }
  // The listener must outlive the headers: it is what aborts the body.
  const release = () => signal.removeEventListener('abort', onAbort)
  if (!res.ok) {
    const text = await res.text().catch(() => '')
    release()
    if (signal.aborted) throw signal.reason
    throw toProviderError(res.status, res.headers, text, config.apiKey)
  }
  return { res, release }
}

/** An upstream non-2xx answer as a ProviderError; tolerates bodies that are not OpenAI's JSON shape. */
export function toProviderError(status: number, headers: Headers, body: string, apiKey: string): ProviderError {
  const { message, type, code } = parseErrorBody(body)
  const detail = redact([message || `HTTP ${status}`, code || type].filter(Boolean).join(' '), apiKey)
  if (status === 429) return new ProviderError('provider_rate_limited', `upstream rate limit: ${detail}`, status, toRetryAfter(headers))
  if (status === 401 || status === 403) return new ProviderError('provider_auth_failed', `upstream refused the credentials: ${detail}`, status)
  if (status === 408 || status >= 500) return new ProviderError('provider_unavailable', `upstream unavailable: ${detail}`, status, toRetryAfter(headers))
  return new ProviderError('provider_bad_request', `upstream rejected the request: ${detail}`, status)
}

export interface UpstreamError { message: string; type: string; code: string; param: string }

/** OpenAI's `{error:{message,type,code,param}}`; also `{error:"text"}` (Ollama, some proxies) and plain text. */
export function parseErrorBody(body: string): UpstreamError {
  try {
    const json = JSON.parse(body) as { error?: unknown; message?: unknown; detail?: unknown }
    return toUpstreamError(json.error ?? json.message ?? json.detail ?? json)
  } catch {
    return { message: body.trim().slice(0, 300), type: '', code: '', param: '' }
  }
}

export function toUpstreamError(error: unknown): UpstreamError {
  if (typeof error === 'string') return { message: error.slice(0, 300), type: '', code: '', param: '' }
  // FastAPI (vLLM, many proxies) answers 422 with `{detail: [{loc, msg, type}]}`.
  if (Array.isArray(error)) {
    return { message: error.map((d) => (d as { msg?: unknown })?.msg ?? JSON.stringify(d)).join('; ').slice(0, 300), type: '', code: '', param: '' }
  }
  const e = (error ?? {}) as Record<string, unknown>
  const str = (v: unknown) => (typeof v === 'string' || typeof v === 'number' ? String(v) : '')
  const message = str(e.message) || (error && typeof error === 'object' ? JSON.stringify(error) : str(error))
  return { message: message.slice(0, 300), type: str(e.type), code: str(e.code), param: str(e.param) }
}

/** Seconds to wait: `retry-after-ms` (OpenAI) wins over `retry-after` (seconds or an HTTP date). */
export function toRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = Number(headers.get('retry-after-ms'))
  if (headers.has('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms / 1000
  const raw = headers.get('retry-after')
  if (!raw) return undefined
  const seconds = Number(raw)
  if (Number.isFinite(seconds) && seconds >= 0) return seconds
  const date = Date.parse(raw)
  return Number.isNaN(date) ? undefined : Math.max(0, (date - now) / 1000)
}

// Any `sk-…`-looking token goes too: an upstream may quote a different key than ours (a proxy's).
const KEYLIKE = /\b(?:sk|gsk|pk|rk)[-_][A-Za-z0-9_*.-]{6,}/g

export function redact(text: string, apiKey: string): string {
  let out = apiKey ? text.split(apiKey).join('[redacted]') : text
  out = out.replace(KEYLIKE, '[redacted]')
  return out
}

export function hostOf(baseUrl: string): string {
  try {
    return new URL(baseUrl).host
  } catch {
    return ''
  }
}

/** undici hides the socket error in `cause` ("fetch failed" alone says nothing). */
export function describe(err: unknown): string {
  const e = err as { message?: string; cause?: { code?: string; message?: string } }
  return [e?.message, e?.cause?.code ?? e?.cause?.message].filter(Boolean).join(': ') || String(err)
}
