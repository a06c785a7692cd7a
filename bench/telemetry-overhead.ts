// What telemetry costs a stream: the chat handler in-process (Request -> Response),
// simulated provider with a fixed TTFB, many concurrent streams, telemetry fully on
// (tracer, Postgres pipeline, rollups, logs) vs off (no-op tracer, no pipeline),
// interleaved rounds in the same process against the same database.
import type { Sql } from 'postgres'
import { createNoopTelemetry, createTelemetry, type Telemetry } from '../shared/telemetry/telemetry.ts'
import { createChatFixture } from '../tests/support/chat-fixture.ts'
import type { CpuMeter } from './telemetry-cpu.ts'

export const BENCH_ENV = {
  SIM_TTFB_MS: '20', SIM_TOKENS_PER_SECOND: '4000', SIM_MIN_TOKENS: '30', SIM_MAX_TOKENS: '30',
  RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '0', LOG_LEVEL: 'info',
}

export interface StreamTiming { ttfbMs: number; endAt: number; traceId: string }

const decoder = new TextDecoder()

/** One chat stream, read to the end like a client; TTFB = first `chat.delta` frame. */
export async function timedStream(f: ReturnType<typeof createChatFixture>, token: string): Promise<StreamTiming> {
  const t0 = performance.now()
  const res = await f.request({ session_id: crypto.randomUUID(), content: 'benchmark question' }, { token })
  if (res.status !== 200) throw new Error(`chat answered ${res.status}: ${await res.text()}`)
  const reader = res.body!.getReader()
  let ttfbMs = NaN
  let text = ''
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    if (Number.isNaN(ttfbMs)) {
      text += decoder.decode(value, { stream: true })
      if (text.includes('event: chat.delta')) ttfbMs = performance.now() - t0
    }
  }
  return { ttfbMs, endAt: Date.now(), traceId: res.headers.get('x-trace-id') ?? '' }
}

export const quantile = (xs: number[], q: number) => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]
}

interface ModeFigures {
  /** TTFB at `ttfbConcurrency` concurrent streams (not saturated). */
  p50: number
  p95: number
  /** Completed streams per second at `concurrency` concurrent streams (saturated). */
  streamsPerSecond: number
  /** CPU of this process + the database per stream, ms. */
  cpuMsPerStream: number
  nodeMsPerStream: number
}

export interface OverheadResult { on: ModeFigures; off: ModeFigures; streams: number }

export interface OverheadOptions { rounds: number; perRound: number; concurrency: number; ttfbConcurrency: number; cpu: CpuMeter }

export async function benchOverhead(sql: Sql, o: OverheadOptions): Promise<OverheadResult> {
  const modes: Record<'on' | 'off', Telemetry> = {
    on: createTelemetry({ serviceName: 'bench', sql, writeLog: () => {} }),
    off: createNoopTelemetry(),
  }
  const fixtures = {
    on: createChatFixture(sql, BENCH_ENV, undefined, { telemetry: modes.on, broadcast: null }),
    off: createChatFixture(sql, BENCH_ENV, undefined, { telemetry: modes.off, broadcast: null }),
  }
  const token = await fixtures.on.token(crypto.randomUUID(), 3600)
  const ttfb = { on: [] as number[], off: [] as number[] }
  const wall = { on: 0, off: 0 }
  const cpu = { on: 0, off: 0 }
  const nodeCpu = { on: 0, off: 0 }
  const streams = { on: 0, off: 0 }

  const run = async (mode: 'on' | 'off', concurrency: number, record: (t: number) => void) => {
    let next = 0
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next++ < o.perRound) record((await timedStream(fixtures[mode], token)).ttfbMs)
    }))
  }
  // Throughput round: saturated; the telemetry of `on` is flushed inside the timed window.
  const throughput = async (mode: 'on' | 'off') => {
    const c0 = await o.cpu.read()
    const t = performance.now()
    await run(mode, o.concurrency, () => {})
    await modes[mode].flush()
    wall[mode] += performance.now() - t
    const c1 = await o.cpu.read()
    cpu[mode] += c1.nodeMs - c0.nodeMs + c1.pgMs - c0.pgMs
    nodeCpu[mode] += c1.nodeMs - c0.nodeMs
    streams[mode] += o.perRound
  }
  const latency = (mode: 'on' | 'off') => run(mode, o.ttfbConcurrency, (t) => ttfb[mode].push(t))

  await throughput('on') // warm-up (JIT, pools, plans), not counted
  await throughput('off')
  wall.on = wall.off = cpu.on = cpu.off = nodeCpu.on = nodeCpu.off = streams.on = streams.off = 0
  for (let r = 0; r < o.rounds; r++) {
    for (const mode of r % 2 ? ['off', 'on'] as const : ['on', 'off'] as const) {
      await latency(mode)
      await throughput(mode)
    }
  }
  await modes.on.shutdown()
  const figures = (mode: 'on' | 'off'): ModeFigures => ({
    p50: quantile(ttfb[mode], 0.5), p95: quantile(ttfb[mode], 0.95),
    streamsPerSecond: streams[mode] / (wall[mode] / 1000), cpuMsPerStream: cpu[mode] / streams[mode], nodeMsPerStream: nodeCpu[mode] / streams[mode],
  })
  return { on: figures('on'), off: figures('off'), streams: o.rounds * o.perRound }
}
