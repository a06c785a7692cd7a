// What the resume suites on the edge stack share: a chat through the gateway, read frame by frame.
import { createBlockReader, framesOf } from '../support/chat-fixture.ts'

export type Frame = ReturnType<typeof framesOf>[number]

export function chatClient(gatewayUrl: string, token: string) {
  return (body: Record<string, unknown>, headers: Record<string, string> = {}, signal?: AbortSignal) =>
    fetch(`${gatewayUrl}/functions/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
      signal,
    })
}

/** Reads frames (heartbeats skipped) until `stop` says so or the body ends. */
export async function readFrames(res: Response, stop: (f: Frame, all: Frame[]) => boolean = () => false) {
  const blocks = createBlockReader(res.body!)
  const frames: Frame[] = []
  for (;;) {
    const block = await blocks.next()
    if (block === undefined) return { frames, cancel: () => Promise.resolve() }
    if (block.startsWith(':')) continue
    const [frame] = framesOf(block)
    frames.push(frame)
    if (stop(frame, frames)) return { frames, cancel: () => blocks.cancel().catch(() => {}) }
  }
}

/**
 * Sends `request` until it lands on an isolate other than `not` (the gateway picks at random),
 * cancelling what landed on `not`.
 */
export async function onAnotherIsolate(not: string, request: () => Promise<Response>): Promise<Response> {
  for (let i = 0; i < 40; i++) {
    const res = await request()
    if (res.headers.get('x-isolate') !== not) return res
    await res.body?.cancel().catch(() => {})
  }
  throw new Error(`40 requests in a row landed on ${not}`)
}

export const deltasOf = (frames: Frame[]) => frames.filter((f) => f.event === 'chat.delta')
export const textOf = (frames: Frame[]) => deltasOf(frames).map((f) => f.data.delta as string).join('')
export const seqsOf = (frames: Frame[]) => deltasOf(frames).map((f) => Number(f.id))
export const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i)
