import type { SimulatedConfig } from '../../shared/config.ts'
import { createRandom } from '../../shared/random.ts'
import { ProviderError, type ChatProvider, type ChatRequest, type ProviderEvent } from './types.ts'

const WORDS = (
  'the stream keeps every token in order while the server measures time to first byte and the ' +
  'dashboard draws each frame as it arrives so an engineer can see where a reply slowed down ' +
  'tokens flow through edge functions into postgres with a trace id on every frame and log line'
).split(' ')

function hash(text: string): number {
  let h = 2166136261
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619)
  return h >>> 0
}

/**
 * Sleeps that an abort cuts short. One abort listener and one timer callback for the whole
 * stream, nothing but the promise per token: at thousands of streams × 10 tokens/s, adding and
 * removing listeners and making closures showed in profiles.
 */
function createSleeper(signal: AbortSignal) {
  let timer: ReturnType<typeof setTimeout> | undefined
  let resolveSleep: (() => void) | undefined
  let rejectSleep: ((reason: unknown) => void) | undefined
  const settle = (aborted: boolean) => {
    const resolve = resolveSleep
    const reject = rejectSleep
    resolveSleep = rejectSleep = undefined
    if (aborted) reject?.(signal.reason)
    else resolve?.()
  }
  const wake = () => settle(false)
  const onAbort = () => {
    clearTimeout(timer)
    settle(true)
  }
  signal.addEventListener('abort', onAbort, { once: true })
  return {
    sleep(ms: number): Promise<void> {
      return new Promise((resolve, reject) => {
        if (signal.aborted) return reject(signal.reason)
        resolveSleep = resolve
        rejectSleep = reject
        timer = setTimeout(wake, ms)
      })
    },
    dispose() { signal.removeEventListener('abort', onAbort) },
  }
}

const countWords = (text: string) => text.split(/\s+/).filter(Boolean).length

/**
 * A deterministic stand-in for an LLM: the same seed and prompt give the same
 * answer and timing; the same seed gives the same failures in request order. Timing is paced against the start time so a slow
 * consumer does not stretch the provider's own schedule.
 */
export function createSimulatedProvider(config: SimulatedConfig): ChatProvider {
  // Failures follow the request sequence, not the prompt: with a failure rate set, a
  // given prompt must not fail every time, yet a run stays reproducible from its seed.
  let requests = 0
  return {
    name: 'simulated',
    async *stream(request: ChatRequest): AsyncIterable<ProviderEvent> {
      const prompt = request.messages.map((m) => m.content).join('\n')
      const random = createRandom(config.seed ^ hash(prompt))
      const chance = createRandom(config.seed + Math.imul(++requests, 0x9e3779b1))
      const span = config.maxTokens - config.minTokens
      const length = Math.min(request.maxTokens, config.minTokens + Math.floor(random() * (span + 1)))
      const failsBefore = chance() < config.failureRate
      const failsAt = chance() < config.midStreamFailureRate ? 1 + Math.floor(chance() * Math.max(1, length - 1)) : -1
      const gapMs = 1000 / config.tokensPerSecond
      const start = Date.now()
      const sleeper = createSleeper(request.signal)
      try {
        await sleeper.sleep(config.ttfbMs)
        if (failsBefore) throw new ProviderError('provider_unavailable', 'simulated provider failure before first token', 503)
        for (let i = 0; i < length; i++) {
          if (i === failsAt) throw new ProviderError('provider_stream_error', `simulated provider failure after ${i} tokens`, 500)
          if (i > 0) await sleeper.sleep(Math.max(0, start + config.ttfbMs + i * gapMs - Date.now()))
          const word = WORDS[Math.floor(random() * WORDS.length)]
          yield { type: 'delta', text: i === 0 ? word : ' ' + word }
        }
        yield {
          type: 'done',
          finish_reason: length === request.maxTokens ? 'length' : 'stop',
          usage: { input_tokens: countWords(prompt), output_tokens: length, estimated: false },
          response_model: request.model,
        }
      } finally {
        sleeper.dispose()
      }
    },
  }
}
