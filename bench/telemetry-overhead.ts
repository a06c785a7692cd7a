// What telemetry costs a stream: the chat handler in-process (Request -> Response),
// simulated provider with a fixed TTFB, many concurrent streams, telemetry fully on
// (tracer, Postgres pipeline, rollups, logs) vs off (sampling off, no pipeline), the spans
// alone COPYed (floor) and the stock OpenTelemetry path (otlp), interleaved rounds in the same
// process against the same database.
import type { Sql } from 'postgres'
import { createNoopTelemetry, createTelemetry, type Telemetry } from '../shared/telemetry/telemetry.ts'
import { createChatFixture } from '../tests/support/chat-fixture.ts'
import { createFloorTelemetry } from './telemetry-floor.ts'
import { createOtlpTelemetry, startOtlpSink } from './telemetry-otlp.ts'
import type { CpuMeter } from './telemetry-cpu.ts'

export const BENCH_ENV = {
  SIM_TTFB_MS: '20', SIM_TOKENS_PER_SECOND: '4000', SIM_MIN_TOKENS: '30', SIM_MAX_TOKENS: '30',
  RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '0', LOG_LEVEL: 'info',
}

/** BENCH_ENV with answers of `min`..`max` tokens. */
export const benchEnv = (min: number, max = min) => ({ ...BENCH_ENV, SIM_MIN_TOKENS: String(min), SIM_MAX_TOKENS: String(max) })

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
  /** Completed streams per second at `concurrency` concurrent streams. */
  streamsPerSecond: number
  /** Completed streams per second at `capacityConcurrency`: as many as the machine can serve. */
  capacityPerSecond: number
  /** CPU of this process + the database per stream, ms. */
  cpuMsPerStream: number
  nodeMsPerStream: number
}

/**
 * off: sampling off, no pipeline. on: the product's telemetry. floor: the spans alone,
 * COPYed as rows and nothing else (bench/telemetry-floor.ts) — what any Postgres
 * telemetry of this shape costs on this machine. otlp: the SDK's BatchSpanProcessor + OTLP/HTTP
 * exporter to a sink in another process (bench/telemetry-otlp.ts), what a user would otherwise pick.
 */
export type Mode = 'off' | 'on' | 'floor' | 'otlp'
export const MODES: Mode[] = ['off', 'on', 'floor', 'otlp']

export interface OverheadResult {
  figures: Record<Mode, ModeFigures>
  /** Per round, a mode's throughput over off's in the same round: robust to a machine whose speed drifts. */
  roundRatios: Record<Exclude<Mode, 'off'>, number[]>
  /** The same for capacity. */
  capacityRatios: Record<Exclude<Mode, 'off'>, number[]>
  streams: number
  /** Spans the stock path ended, and those its sink received: equal when it dropped none. */
  otlpSpans: { ended: number; received: number }
}

export interface OverheadOptions {
  rounds: number; perRound: number; concurrency: number; capacityConcurrency: number; ttfbConcurrency: number; cpu: CpuMeter
  env?: Record<string, string>
}

export async function benchOverhead(sql: Sql, o: OverheadOptions): Promise<OverheadResult> {
  const sink = await startOtlpSink()
  const otlp = createOtlpTelemetry(sink.url)
  const telemetry: Record<Mode, Telemetry> = {
    off: createNoopTelemetry(),
    on: createTelemetry({ serviceName: 'bench', sql, writeLog: () => {} }),
    floor: createFloorTelemetry(sql),
    otlp,
  }
  const fixtures = Object.fromEntries(MODES.map((m) => [m, createChatFixture(sql, o.env ?? BENCH_ENV, undefined, { telemetry: telemetry[m], broadcast: null })])) as Record<Mode, ReturnType<typeof createChatFixture>>
  const token = await fixtures.on.token(crypto.randomUUID(), 3600)
  const zero = () => Object.fromEntries(MODES.map((m) => [m, 0])) as Record<Mode, number>
  const ttfb = Object.fromEntries(MODES.map((m) => [m, [] as number[]])) as Record<Mode, number[]>
  let wall = zero(), cpu = zero(), nodeCpu = zero(), streams = zero()

  const run = async (mode: Mode, concurrency: number, record: (t: number) => void, count = o.perRound) => {
    let next = 0
    await Promise.all(Array.from({ length: concurrency }, async () => {
      while (next++ < count) record((await timedStream(fixtures[mode], token)).ttfbMs)
    }))
  }
  // Throughput round: saturated; the mode's telemetry is flushed inside the timed window.
  let roundRate = zero()
  const throughput = async (mode: Mode) => {
    const c0 = await o.cpu.read()
    const t = performance.now()
    await run(mode, o.concurrency, () => {})
    await telemetry[mode].flush()
    const elapsed = performance.now() - t
    wall[mode] += elapsed
    roundRate[mode] = o.perRound / elapsed
    const c1 = await o.cpu.read()
    cpu[mode] += c1.nodeMs - c0.nodeMs + c1.pgMs - c0.pgMs
    nodeCpu[mode] += c1.nodeMs - c0.nodeMs
    streams[mode] += o.perRound
  }
  const latency = (mode: Mode) => run(mode, o.ttfbConcurrency, (t) => ttfb[mode].push(t))
  // Capacity round: enough concurrent streams that the machine, not the pacing, is the
  // limit, and enough streams per round that the ramp-up and the tail are a small part.
  const capacityCount = Math.max(o.perRound, 5 * o.capacityConcurrency)
  let capacityWall = zero(), capacityStreams = zero(), capacityRate = zero()
  const capacity = async (mode: Mode) => {
    const t = performance.now()
    await run(mode, o.capacityConcurrency, () => {}, capacityCount)
    await telemetry[mode].flush()
    const elapsed = performance.now() - t
    capacityWall[mode] += elapsed
    capacityStreams[mode] += capacityCount
    capacityRate[mode] = capacityCount / elapsed
  }

  for (const mode of MODES) { await throughput(mode); await capacity(mode) } // warm-up (JIT, pools, plans), not counted
  // A running deployment's autovacuum has analyzed its tables; a benchmark this short
  // gets ahead of it, and a generic plan cached while public.messages was empty (a seq
  // scan of the user's history) made the chat's own queries slower every round.
  await sql`analyze`
  wall = zero(); cpu = zero(); nodeCpu = zero(); streams = zero(); capacityWall = zero(); capacityStreams = zero()
  const compared = MODES.filter((m): m is Exclude<Mode, 'off'> => m !== 'off')
  const ratios = () => Object.fromEntries(compared.map((m) => [m, [] as number[]])) as OverheadResult['roundRatios']
  const roundRatios = ratios()
  const capacityRatios = ratios()
  for (let r = 0; r < o.rounds; r++) {
    roundRate = zero()
    for (let i = 0; i < MODES.length; i++) {
      const mode = MODES[(i + r) % MODES.length] // each mode takes each place in the order
      await latency(mode)
      await throughput(mode)
      await capacity(mode)
    }
    for (const m of compared) {
      roundRatios[m].push(roundRate[m] / roundRate.off)
      capacityRatios[m].push(capacityRate[m] / capacityRate.off)
    }
  }
  await Promise.all(MODES.map((m) => telemetry[m].shutdown()))
  const otlpSpans = { ended: otlp.ended(), received: await sink.received() }
  sink.stop()
  const figures = (mode: Mode): ModeFigures => ({
    p50: quantile(ttfb[mode], 0.5), p95: quantile(ttfb[mode], 0.95),
    streamsPerSecond: streams[mode] / (wall[mode] / 1000), capacityPerSecond: capacityStreams[mode] / (capacityWall[mode] / 1000), cpuMsPerStream: cpu[mode] / streams[mode], nodeMsPerStream: nodeCpu[mode] / streams[mode],
  })
  return { figures: Object.fromEntries(MODES.map((m) => [m, figures(m)])) as Record<Mode, ModeFigures>, roundRatios, capacityRatios, streams: o.rounds * o.perRound, otlpSpans }
}
