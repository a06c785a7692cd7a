import http from 'node:http'
import https from 'node:https'
import type { DeltaFrame, DoneFrame, ErrorFrame } from '../../shared/sse/frames.ts'
import { createSSEParser } from '../../shared/sse/parse.ts'
import { chatUrl, type ChatEngine } from './engine.ts'

/**
 * The bare client: node:http, the project's SSE parser, no retry and no resume. Per stream it
 * costs one socket, one parser and one JSON.parse per frame, which is as little as an SSE client
 * can do; a network failure is reported as it is.
 */
export function createRawEngine(maxSockets: number): { engine: ChatEngine; close(): void } {
  // keepAlive reuses a socket for the next chat of the same client; maxSockets must cover every
  // concurrent stream or requests queue inside the agent and the tool measures its own queue.
  const agents = {
    'http:': new http.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets }),
    'https:': new https.Agent({ keepAlive: true, maxSockets, maxFreeSockets: maxSockets }),
  }

  const engine: ChatEngine = (spec, observer) => new Promise<void>((resolve) => {
    const url = new URL(chatUrl(spec.url))
    const lib = url.protocol === 'https:' ? https : http
    const payload = JSON.stringify(spec.body)
    let finished = false
    const finish = (fn?: () => void) => {
      if (finished) return
      finished = true
      fn?.()
      spec.signal.removeEventListener('abort', onAbort)
      resolve()
    }
    const req = lib.request(url, {
      method: 'POST',
      agent: agents[url.protocol as 'http:' | 'https:'],
      headers: {
        authorization: `Bearer ${spec.token}`,
        'content-type': 'application/json',
        accept: 'text/event-stream',
        'content-length': Buffer.byteLength(payload),
        ...spec.headers,
      },
    })
    const onAbort = () => { req.destroy(); finish(() => observer.error('aborted')) }
    if (spec.signal.aborted) return finish(() => observer.error('aborted'))
    spec.signal.addEventListener('abort', onAbort, { once: true })

    req.on('error', () => finish(() => observer.error('network_error')))
    req.on('response', (res) => {
      const traceId = (res.headers['x-trace-id'] as string | undefined) ?? null
      if (res.statusCode !== 200 || !String(res.headers['content-type']).startsWith('text/event-stream')) {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (d: string) => { if (body.length < 65536) body += d })
        res.on('end', () => finish(() => {
          let code = `http_${res.statusCode}`
          try { code = JSON.parse(body).error.code ?? code } catch { /* not our JSON */ }
          observer.error(code, res.statusCode)
        }))
        res.on('error', () => finish(() => observer.error('network_error', res.statusCode)))
        return
      }
      observer.open(traceId)
      let ended = false
      const parser = createSSEParser({
        onEvent(e) {
          if (ended) return
          if (e.event === 'chat.delta') {
            const f = JSON.parse(e.data) as DeltaFrame
            observer.delta(f.seq, f.delta)
          } else if (e.event === 'chat.done') {
            ended = true
            const f = JSON.parse(e.data) as Partial<Pick<DoneFrame, 'usage' | 'trace_id'>>
            finish(() => observer.done({ output_tokens: f.usage?.output_tokens ?? null, trace_id: f.trace_id ?? traceId }))
          } else if (e.event === 'error') {
            ended = true
            let code = 'error_frame'
            try { code = (JSON.parse(e.data) as Partial<ErrorFrame>).code ?? code } catch { /* keep the generic code */ }
            finish(() => observer.error(code))
          }
        },
      })
      res.on('data', (chunk: Buffer) => parser.feed(chunk))
      res.on('end', () => finish(() => observer.error('network_error')))
      res.on('error', () => finish(() => observer.error('network_error')))
      res.on('close', () => finish(() => observer.error('network_error')))
    })
    req.end(payload)
  })

  return {
    engine,
    close() { agents['http:'].destroy(); agents['https:'].destroy() },
  }
}
