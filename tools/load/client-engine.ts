import { streamChat } from '../../shared/client/index.ts'
import type { ChatEngine } from './engine.ts'

/**
 * The project's client library, as an application uses it: retries with backoff, resume with
 * Last-Event-ID, fallback to JSON. It hands over deltas already in order and each once, so the
 * tool's seq accounting here checks the library's promise rather than the wire.
 */
export function createClientEngine(options: { onGone?: 'fail' | 'restart'; maxAttempts?: number } = {}): ChatEngine {
  return async (spec, observer) => {
    const withHeaders: typeof fetch = (input, init) =>
      fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string> | undefined), ...spec.headers } })
    const chat = streamChat({
      url: spec.url,
      getToken: () => spec.token,
      session_id: spec.body.session_id,
      content: spec.body.content,
      body: spec.body.max_tokens ? { max_tokens: spec.body.max_tokens } : undefined,
      signal: spec.signal,
      fetch: withHeaders,
      onGone: options.onGone ?? 'fail',
      ...(options.maxAttempts ? { maxAttempts: options.maxAttempts } : {}),
    })
    let traceId: string | null = null
    // Iterated, not just observed through callbacks: the stream's event buffer drains as it goes.
    for await (const e of chat) {
      switch (e.type) {
        case 'open': traceId = e.trace_id; observer.open(e.trace_id); break
        case 'delta': observer.delta(e.seq, e.text); break
        case 'done': observer.done({ output_tokens: e.usage.output_tokens, trace_id: traceId }); break
        case 'error': observer.error(e.code, e.status); break
        case 'retry': observer.retry(e.reason); break
        case 'resume': observer.resume(e.from_seq); break
        case 'gone': if (e.action === 'restart') observer.restart(); break
      }
    }
    await chat.result
  }
}
