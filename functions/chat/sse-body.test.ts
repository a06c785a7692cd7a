import { trace } from '@opentelemetry/api'
import { describe, expect, it } from 'vitest'
import { isSseBody, toSseBody, type SsePump } from './sse-body.ts'
import type { StreamSource } from './source.ts'

/** A finished stream of `frames` then `terminal`, all here from the start. */
function finishedSource(frames: string[], terminal: string): StreamSource {
  return {
    traceId: '0'.repeat(32), streamId: crypto.randomUUID(), root: trace.wrapSpanContext({ traceId: '0'.repeat(32), spanId: '0'.repeat(16), traceFlags: 0 }),
    lastSeq: () => frames.length,
    take: (seq) => frames[seq - 1],
    terminal: () => terminal,
    outcome: () => undefined,
    text: () => '',
    advance: () => Promise.resolve(),
    request() {},
    attach() {},
    release() {},
    detach: () => Promise.resolve(),
  }
}

const body = () => toSseBody(finishedSource(['a\n\n', 'b\n\n'], 'end\n\n'), { fromSeq: 0, heartbeatMs: 60_000 })

function drain(pump: SsePump): string {
  let text = ''
  for (let chunk = pump.read(() => {}); typeof chunk === 'string'; chunk = pump.read(() => {})) text += chunk
  return text
}

describe('SSE body', () => {
  it('is a web stream of the frames, then the terminal frame', async () => {
    expect(await new Response(body()).text()).toBe('a\n\nb\n\nend\n\n')
  })

  it('offers its pump to a writer that sends text itself, once', () => {
    const b = body()
    expect(isSseBody(b)).toBe(true)
    const pump = b.takePump()!
    expect(drain(pump)).toBe('a\n\nb\n\nend\n\n')
    expect(pump.complete).toBe(true)
    expect(b.takePump()).toBeUndefined()
  })

  it('keeps its pump once the stream is being read', async () => {
    const b = body()
    const reader = b.getReader()
    expect(b.takePump()).toBeUndefined()
    expect(new TextDecoder().decode((await reader.read()).value)).toBe('a\n\n')
    reader.releaseLock()
    expect(b.takePump()).toBeUndefined()
    await b.cancel()
  })

  it('is told apart from other bodies', () => {
    expect(isSseBody(null)).toBe(false)
    expect(isSseBody(new Response('x').body)).toBe(false)
  })
})
