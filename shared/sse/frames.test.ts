// The wire contract against itself, the SSE parser, and the docs that show it.
import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  formatFrame, readFrame, toReceivedFrame, toSeqOfEventId,
  type ChatAnswer, type ChatEventName, type ChatFrames, type ReceivedFrame,
} from './frames.ts'
import { createSSEParser, type SSEEvent } from './parse.ts'

const TRACE = 'c'.repeat(32)

/** One frame of every event, typed by the contract: a field renamed there fails to compile here. */
const SAMPLES: { [E in ChatEventName]: ChatFrames[E] } = {
  'chat.delta': { trace_id: TRACE, seq: 7, delta: 'Hé\n"x"' },
  'chat.done': { trace_id: TRACE, message_id: crypto.randomUUID(), finish_reason: 'stop', usage: { input_tokens: 12, output_tokens: 40 }, ttfb_ms: 152.3, duration_ms: 1201.7 },
  error: { trace_id: TRACE, code: 'provider_stream_error', message: 'the model stopped' },
}
const ANSWER: ChatAnswer = { ...SAMPLES['chat.done'], content: 'the whole answer' }
const EVENTS = Object.keys(SAMPLES) as ChatEventName[]
const sampleFrame = <E extends ChatEventName>(event: E) => formatFrame[event](SAMPLES[event])

function parse(text: string): SSEEvent[] {
  const events: SSEEvent[] = []
  const parser = createSSEParser({ onEvent: (e) => events.push(e) })
  parser.feed(new TextEncoder().encode(text))
  return events
}

/** The field names of a payload, nested ones as `usage.input_tokens`. */
function shape(value: unknown, prefix = ''): string[] {
  if (typeof value !== 'object' || value === null) return [prefix.slice(0, -1)]
  return Object.entries(value).flatMap(([k, v]) => shape(v, `${prefix}${k}.`)).sort()
}

describe('chat wire contract', () => {
  it.each(EVENTS)('%s: what the server formats, a reader receives field for field', (event) => {
    const [parsed, ...rest] = parse(sampleFrame(event))
    expect(rest).toEqual([])
    const frame = toReceivedFrame(parsed!)
    expect(frame?.event).toBe(event)
    expect(frame?.data).toEqual(SAMPLES[event])
    expect(readFrame(sampleFrame(event))).toEqual(frame)
  })

  it('gives a delta its seq as id and no other frame an id, so the last event id is the last delta\'s seq', () => {
    const text = formatFrame['chat.delta']({ trace_id: TRACE, seq: 41, delta: 'a' }) + EVENTS.map(sampleFrame).join('')
    expect(text.match(/^id: .*$/gm)).toEqual(['id: 41', 'id: 7'])
    const ids = parse(text).map((e) => e.id)
    expect(ids).toEqual(['41', '7', '7', '7'])
    expect(ids.map(toSeqOfEventId)).toEqual([41, 7, 7, 7])
  })

  it('reads a Last-Event-ID as a seq: 0 for none, undefined for anything but a non-negative integer', () => {
    expect([null, '', ' ', '0', ' 12 ', '123456789012345'].map(toSeqOfEventId)).toEqual([0, 0, 0, 0, 12, 123456789012345])
    expect(['-1', '1.5', '1e3', 'abc', '1234567890123456'].map(toSeqOfEventId)).toEqual([undefined, undefined, undefined, undefined, undefined])
  })

  it('leaves events that are not the chat stream\'s to the reader to ignore', () => {
    expect(toReceivedFrame({ event: 'message', data: '{}', id: '' })).toBeUndefined()
    expect(toReceivedFrame({ event: 'toString', data: '{}', id: '' })).toBeUndefined()
    expect(readFrame(': heartbeat\n\n')).toBeUndefined()
  })
})

describe('the docs show the contract', () => {
  const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
  const chatDoc = readFileSync(new URL('../../docs/chat.md', import.meta.url), 'utf8')

  it('README "The stream": one frame of every event, with exactly the contract\'s fields', () => {
    const block = /## The stream\n\n```\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(block, 'README has a "The stream" example').toBeDefined()
    // The block's last frame ends at the fence: the blank line that dispatches it is added.
    const frames = parse(`${block}\n`).map((e) => toReceivedFrame(e)) as ReceivedFrame[]
    expect(frames.map((f) => f?.event)).toEqual(EVENTS)
    for (const f of frames) expect(shape(f.data), f.event).toEqual(shape(SAMPLES[f.event]))
    const [first] = frames
    expect(first?.event === 'chat.delta' && first.id === String(first.data.seq), 'the delta\'s id is its seq').toBe(true)
  })

  it('docs/chat.md "Transports": the JSON answer has exactly the contract\'s fields', () => {
    const section = chatDoc.slice(chatDoc.indexOf('## Transports and the backout flag'))
    const json = /```json\n([\s\S]*?)```/.exec(section)?.[1]
    expect(json, 'docs/chat.md shows the JSON answer').toBeDefined()
    expect(shape(JSON.parse(json!))).toEqual(shape(ANSWER))
  })
})
