// bench:soak — the real server under steady load for minutes: does its memory settle? RSS is read
// from /proc every few seconds (heap from the server probe); growth is measured from the end of
// the warm-up to the end of the run. Prints figures; never fails on them.
//
//   npm run bench:soak [-- --minutes 10 --streams 500 --interval 5s --warmup 4m --engine raw|client --node-options "…"]
//
// The warm-up must cover the time the server's bounded caches take to fill, or their filling is
// read as growth: the ramp (20 s) + the longest answer (60 s) + RESUME_RETENTION_SECONDS (120 s,
// finished streams stay resumable that long) ≈ 3.5 min before the resume buffer is in steady state.
import { parseArgs } from 'node:util'
import { parseCount, parseDuration } from '../tools/load/args.ts'
import type { ProbeSample } from '../tools/load/probe.ts'
import { rssMiB } from '../tools/load/proc.ts'
import { formatRowSizes, measureRowSizes, type RowSizes } from '../tools/load/row-sizes.ts'
import { formatSummary } from '../tools/load/report.ts'
import { spawnLoad } from '../tools/load/spawn-load.ts'
import { startStack } from '../tools/chaos/stack.ts'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    streams: { type: 'string', default: '500' },
    interval: { type: 'string', default: '5s' },
    warmup: { type: 'string', default: '4m' },
    ramp: { type: 'string', default: '20s' },
    engine: { type: 'string', default: 'raw' },
    'node-options': { type: 'string', default: '' },
  },
})
const durationMs = Number(values.minutes) * 60_000
const streams = parseCount('streams', values.streams, 1)
const intervalMs = parseDuration(values.interval)
const warmupMs = parseDuration(values.warmup)
const log = (line: string) => process.stderr.write(`[bench:soak] ${line}\n`)

// Answers of 10–60 s at 10 tokens/s: clients keep starting chats, so every per-chat structure
// (resume buffer, spans, message rows, timers) is created and released thousands of times.
const stack = await startStack({ env: { SIM_TOKENS_PER_SECOND: '10', SIM_MIN_TOKENS: '100', SIM_MAX_TOKENS: '600', MAX_OUTPUT_TOKENS: '2000' }, nodeOptions: values['node-options'] })
const pid = stack.pid!
log(`real server ${stack.baseUrl} (pid ${pid}); ${streams} streams for ${values.minutes} min; RSS every ${intervalMs / 1000} s; warm-up ${warmupMs / 1000} s`)

const series: { t: number; rss: number }[] = []
const t0 = performance.now()
const wall0 = Date.now()
const sampler = setInterval(() => series.push({ t: (performance.now() - t0) / 1000, rss: rssMiB(pid) }), intervalMs)
let lastProgress = 0
let code = 0
let summary
try {
  summary = await spawnLoad([
    '--url', stack.baseUrl, '--streams', String(streams), '--duration', `${durationMs}ms`, '--ramp', values.ramp,
    '--prompt-tokens', '500', '--engine', values.engine, '--server-pid', String(pid),
  ], {
    timeoutMs: durationMs + 180_000,
    onStderr: (text) => {
      // One progress line a minute is enough in a log.
      if (performance.now() - lastProgress < 60_000 || !text.includes('open')) return
      lastProgress = performance.now()
      log(text.trim().split('\n').at(-1)!)
    },
  })
} catch (err) {
  log(`the load run failed: ${(err as Error).message}`)
  code = 1
} finally {
  clearInterval(sampler)
}
const probe = stack.probe?.read(wall0) ?? []
// What the run's thousands of chats left in Postgres, per chat: the input of docs/scaling.md.
let sizes: RowSizes | undefined
if (summary && stack.sql) sizes = await measureRowSizes(stack.sql, summary.run_id).catch(() => undefined)
await stack.stop()

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)
const after = series.filter((s) => s.t * 1000 >= warmupMs)
const atWarm = mean(after.slice(0, 3).map((s) => s.rss))
const atEnd = mean(after.slice(-3).map((s) => s.rss))
const max = Math.max(...after.map((s) => s.rss))
// Least-squares slope after the warm-up: a leak shows as a steady climb, a heap breathing does not.
const slope = (() => {
  const n = after.length
  if (n < 2) return NaN
  const mx = mean(after.map((s) => s.t))
  const my = mean(after.map((s) => s.rss))
  const num = after.reduce((a, s) => a + (s.t - mx) * (s.rss - my), 0)
  const den = after.reduce((a, s) => a + (s.t - mx) ** 2, 0)
  return (num / den) * 60
})()

const lines: string[] = ['', `bench:soak — real server, ${streams} streams, ${values.minutes} min, RSS every ${intervalMs / 1000} s`]
if (summary) lines.push('', formatSummary(summary))
lines.push('', 'minute   RSS min   RSS mean   RSS max   heap used   heap total   array buffers   server CPU mean   server lag p99 max')
for (let m = 0; m * 60 < (series.at(-1)?.t ?? 0); m++) {
  const xs = series.filter((s) => s.t >= m * 60 && s.t < (m + 1) * 60).map((s) => s.rss)
  const ps = probe.filter((p) => p.t >= wall0 + m * 60_000 && p.t < wall0 + (m + 1) * 60_000)
  const pm = (f: keyof ProbeSample) => (ps.length ? mean(ps.map((p) => p[f])).toFixed(0) : '–')
  const lagMax = ps.length ? Math.max(...ps.map((p) => p.lag_p99_ms)).toFixed(1) : '–'
  if (!xs.length) continue
  lines.push(`${String(m + 1).padStart(6)}   ${Math.min(...xs).toFixed(0).padStart(7)}   ${mean(xs).toFixed(0).padStart(8)}   ${Math.max(...xs).toFixed(0).padStart(7)}   ${pm('heap_used_mib').padStart(9)}   ${pm('heap_total_mib').padStart(10)}   ${pm('array_buffers_mib').padStart(13)}   ${(pm('cpu_percent') + '%').padStart(15)}   ${(lagMax + ' ms').padStart(18)}`)
}
const growth = (atEnd / atWarm - 1) * 100
lines.push(
  '',
  `RSS after warm-up ${atWarm.toFixed(1)} MiB → end ${atEnd.toFixed(1)} MiB (max ${max.toFixed(1)}): growth ${growth.toFixed(1)}% (target < 10%); trend ${slope.toFixed(2)} MiB/min`,
)
if (sizes) lines.push('', formatRowSizes(sizes))
console.log(lines.join('\n'))
process.exit(code)
