// What a load run counts, in fixed-size histograms and counters: a long run with thousands of
// streams costs the same memory as a short one. `toSummary` turns it into the run's report.
import { monitorEventLoopDelay } from 'node:perf_hooks'
import { createHistogram } from './histogram.ts'
import type { ProcSample } from './proc.ts'
import { toQuantiles } from './quantiles.ts'
import type { ReadersSummary } from './readers.ts'
import type { ChatRecord, LoadOptions, LoadSummary } from './load-types.ts'

export function createTally() {
  return {
    ttfb: createHistogram(),
    duration: createHistogram(),
    gaps: createHistogram(),
    errors: {} as Record<string, number>,
    errorsMid: {} as Record<string, number>,
    chats: { started: 0, done: 0, failed: 0, cut_at_end: 0 },
    records: [] as ChatRecord[],
    open: 0,
    frames: 0,
    steadyFrames: 0,
    tokens: 0,
    lost: 0,
    repeated: 0,
    retries: 0,
    resumes: 0,
    restarts: 0,
  }
}
export type Tally = ReturnType<typeof createTally>

const LAG_RESOLUTION_MS = 10
// The histogram holds the time between its timer's ticks, resolution included: lag is the excess.
const lagMs = (ns: number) => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS)

/** The tool's own event-loop lag: over the whole run, and per progress window. */
export function startLagMonitor() {
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS })
  const window = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS })
  lag.enable()
  window.enable()
  return {
    /** p99 since the last call. */
    windowP99() { const p99 = lagMs(window.percentile(99)); window.reset(); return p99 },
    stop() {
      lag.disable()
      window.disable()
      return { p50: lagMs(lag.percentile(50)), p99: lagMs(lag.percentile(99)), max: lagMs(lag.max) }
    },
  }
}

export interface RunMeasures {
  t0: number
  wallS: number
  cpu: NodeJS.CpuUsage
  lag: LoadSummary['tool']['event_loop_lag_ms']
  server?: { cpuPercent(): number }
  serverSamples?: ProcSample[]
  dashboard?: ReadersSummary
}

export function toSummary(o: LoadOptions, t: Tally, m: RunMeasures): LoadSummary {
  const steadyS = Math.max(0.001, (o.durationMs - o.rampMs) / 1000)
  return {
    run_id: o.runId,
    clock_start: m.t0,
    url: o.url,
    streams: o.streams,
    duration_s: o.durationMs / 1000,
    ramp_s: o.rampMs / 1000,
    chats: t.chats,
    ttfb_ms: toQuantiles(t.ttfb),
    duration_ms: toQuantiles(t.duration),
    gap_ms: toQuantiles(t.gaps),
    frames: t.frames,
    tokens: t.tokens,
    frames_per_s: t.steadyFrames / steadyS,
    errors: t.errors,
    errors_mid_stream: t.errorsMid,
    lost_frames: t.lost,
    repeated_frames: t.repeated,
    retries: t.retries,
    resumes: t.resumes,
    restarts: t.restarts,
    tool: {
      cpu_percent: ((m.cpu.user + m.cpu.system) / 1e6 / m.wallS) * 100,
      event_loop_lag_ms: m.lag,
      rss_mib: process.memoryUsage.rss() / 2 ** 20,
    },
    ...(m.server && m.serverSamples ? { server: serverSummary(o.serverPid!, m.server.cpuPercent(), m.serverSamples) } : {}),
    ...(m.dashboard ? { dashboard: m.dashboard } : {}),
    ...(o.keepChats ? { chat_records: t.records } : {}),
  }
}

function serverSummary(pid: number, cpuPercent: number, samples: ProcSample[]): NonNullable<LoadSummary['server']> {
  return {
    pid,
    cpu_percent: cpuPercent,
    rss_mib: { first: samples[0]?.rssMiB ?? NaN, last: samples.at(-1)?.rssMiB ?? NaN, max: Math.max(...samples.map((s) => s.rssMiB)) },
    samples,
  }
}
