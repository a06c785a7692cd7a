// What the load runner needs from a chat client: one call per chat, events as they happen. Two
// implementations: the project's client library (retries, resume, fallback: what users run) and a
// bare node:http + SSE parser client (the least a client can cost, to tell the tool's own
// overhead apart from the server's).

export interface ChatRequestSpec {
  /** The project's base URL (`http://127.0.0.1:54321`, `https://<ref>.supabase.co`). */
  url: string
  token: string
  body: { session_id: string; content: string; max_tokens?: number }
  /** Sent on every attempt (the run id). */
  headers: Record<string, string>
  signal: AbortSignal
}

export interface ChatObserver {
  /** The response headers arrived (or the client library's `open`). */
  open(traceId: string | null): void
  delta(seq: number, text: string): void
  done(info: { output_tokens: number | null; trace_id: string | null }): void
  /** The chat failed; `code` is the server's code or a client one (network_error, …). */
  error(code: string, status?: number): void
  retry(reason: string): void
  resume(fromSeq: number): void
  /** The stream was gone on resume and the client restarted the chat (seqs begin again). */
  restart(): void
}

/** Runs one chat to its end (done, error or abort); never rejects. */
export type ChatEngine = (spec: ChatRequestSpec, observer: ChatObserver) => Promise<void>

export type EngineName = 'client' | 'raw'

const trimSlash = (s: string) => s.replace(/\/+$/, '')

/** Accepts the base URL or the function's own URL; returns the base, as the client library wants it. */
export const toBaseUrl = (url: string) => trimSlash(trimSlash(url).replace(/\/functions\/v1\/chat$/, ''))

export const chatUrl = (base: string) => `${toBaseUrl(base)}/functions/v1/chat`
