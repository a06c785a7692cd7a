import { describe, expect, it } from 'vitest'
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

  it('paces tokens at the configured rate after the first-token delay', async () => {
    const p = sim({ SIM_TTFB_MS: '30', SIM_TOKENS_PER_SECOND: '200', SIM_MIN_TOKENS: '11', SIM_MAX_TOKENS: '11' })
    const t0 = performance.now()
    const times: number[] = []
    for await (const e of p.stream({ model: 'm', messages: [{ role: 'user', content: 'x' }], maxTokens: 100, signal: new AbortController().signal })) {
      if (e.type === 'delta') times.push(performance.now() - t0)
    }
    expect(times[0]).toBeGreaterThanOrEqual(29)
    // The schedule is anchored to the start: token i is due at 30 + 5·i ms, never earlier
    // (a late first token is caught up on, so only lower bounds are meaningful).
    times.forEach((t, i) => expect(t).toBeGreaterThanOrEqual(30 + 5 * i - 1))
  })

  it('stops promptly when aborted', async () => {
    const p = sim({ SIM_TTFB_MS: '10000' })
    const abort = new AbortController()
    setTimeout(() => abort.abort(new Error('gone')), 10)
    const t0 = Date.now()
    await expect((async () => { for await (const _ of p.stream({ model: 'm', messages: [], maxTokens: 5, signal: abort.signal })) { /* drain */ } })()).rejects.toThrow('gone')
    expect(Date.now() - t0).toBeLessThan(1000)
  })
})
