import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { readConfig } from '../../shared/config.ts'
import { createSimulatedProvider } from './simulated.ts'
import type { ProviderEvent } from './types.ts'

const sim = (env: Record<string, string> = {}) => createSimulatedProvider(readConfig({
  JWT_SECRET: 'x'.repeat(32), SIM_TTFB_MS: '0', SIM_TOKENS_PER_SECOND: '100000', ...env,
}).simulated)

async function run(p: ReturnType<typeof sim>, content: string, maxTokens = 1000) {
  const out: ProviderEvent[] = []
  try {
    for await (const e of p.stream({ model: 'm', messages: [{ role: 'user', content }], maxTokens, signal: new AbortController().signal })) out.push(e)
  } catch (err) {
    return { out, error: (err as { code: string }).code }
  }
  return { out }
}

describe('simulated provider', () => {
  it('gives the same answer for the same seed and prompt, another for another prompt', async () => {
    const a = await run(sim({ SIM_MAX_TOKENS: '30' }), 'hello')
    const b = await run(sim({ SIM_MAX_TOKENS: '30' }), 'hello')
    const c = await run(sim({ SIM_MAX_TOKENS: '30' }), 'something else entirely')
    expect(a.out).toEqual(b.out)
    expect(a.out).not.toEqual(c.out)
    expect(a.out.at(-1)).toMatchObject({ type: 'done', finish_reason: 'stop', usage: { output_tokens: a.out.length - 1, estimated: false } })
  })

  it('stays within the configured length and stops at maxTokens with finish_reason length', async () => {
    const { out } = await run(sim({ SIM_MIN_TOKENS: '50', SIM_MAX_TOKENS: '60' }), 'x')
    expect(out.length - 1).toBeGreaterThanOrEqual(50)
    expect(out.length - 1).toBeLessThanOrEqual(60)
    const capped = await run(sim({ SIM_MIN_TOKENS: '50', SIM_MAX_TOKENS: '60' }), 'x', 7)
    expect(capped.out.at(-1)).toMatchObject({ finish_reason: 'length', usage: { output_tokens: 7 } })
  })

  it('fails at about the configured rate, reproducibly, whatever the prompt', async () => {
    const outcomes = async () => {
      const p = sim({ SIM_FAILURE_RATE: '0.3', SIM_SEED: '7', SIM_MIN_TOKENS: '1', SIM_MAX_TOKENS: '2' })
      const results = []
      for (let i = 0; i < 200; i++) results.push((await run(p, 'same prompt')).error ?? 'ok')
      return results
    }
    const first = await outcomes()
    expect(await outcomes()).toEqual(first)
    const failures = first.filter((r) => r === 'provider_unavailable').length
    expect(failures).toBeGreaterThan(35)
    expect(failures).toBeLessThan(85)
  })

  // On a fake clock: the schedule itself, exactly, whatever the machine's speed (a real timer
  // may fire a millisecond early and any time late).
  describe('timing', () => {
    beforeEach(() => { vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'Date'] }) })
    afterEach(() => { vi.useRealTimers() })

    const collect = async (p: ReturnType<typeof sim>, signal = new AbortController().signal, onDelta = () => {}) => {
      const t0 = Date.now()
      const at: number[] = []
      for await (const e of p.stream({ model: 'm', messages: [{ role: 'user', content: 'x' }], maxTokens: 100, signal })) {
        if (e.type === 'delta') { at.push(Date.now() - t0); await onDelta() }
      }
      return at
    }

    it('paces tokens at the configured rate after the first-token delay', async () => {
      const p = sim({ SIM_TTFB_MS: '30', SIM_TOKENS_PER_SECOND: '200', SIM_MIN_TOKENS: '11', SIM_MAX_TOKENS: '11' })
      const arrivals = collect(p)
      await vi.advanceTimersByTimeAsync(1_000)
      // Token i is due at 30 + 5·i ms after the start.
      expect(await arrivals).toEqual(Array.from({ length: 11 }, (_, i) => 30 + 5 * i))
    })

    it('keeps to the schedule from the start when the consumer is slow (catches up instead of drifting)', async () => {
      const p = sim({ SIM_TTFB_MS: '30', SIM_TOKENS_PER_SECOND: '200', SIM_MIN_TOKENS: '6', SIM_MAX_TOKENS: '6' })
      // The consumer spends 12 ms on the third token: the next two are overdue and follow at once
      // (a 0 ms timer is 1 ms in Node), and the last is back on time, not 12 ms late.
      let n = 0
      const arrivals = collect(p, undefined, () => (++n === 3 ? new Promise((r) => setTimeout(r, 12)) : undefined))
      await vi.advanceTimersByTimeAsync(1_000)
      expect(await arrivals).toEqual([30, 35, 40, 53, 54, 55])
    })

    it('stops when aborted, without waiting out the first-token delay', async () => {
      const p = sim({ SIM_TTFB_MS: '10000' })
      const abort = new AbortController()
      const t0 = Date.now()
      const drained = collect(p, abort.signal).catch((err: Error) => err)
      await vi.advanceTimersByTimeAsync(10)
      abort.abort(new Error('gone'))
      // No more time passes on the fake clock: only the abort can end the wait.
      expect(await drained).toMatchObject({ message: 'gone' })
      expect(Date.now() - t0).toBe(10)
    })
  })
})
