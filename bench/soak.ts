// bench:soak — steady load for minutes: does memory settle? The Node server (what `npm start`
// runs) and the functions as Supabase runs them (`npm run edge`: Deno isolates, recycled by their
// wall clock, behind PgBouncer) one after the other, with the same load. RSS is read from /proc
// every few seconds (for the edge, the sum over the live isolates and the largest one, against the
// platform's 256 MB); growth is measured from the end of the warm-up to the end of the run. Prints
// figures and ratios; never fails on them.
//
//   npm run bench:soak [-- --minutes 10 --streams 500 --interval 5s --warmup 4m --engine raw|client --node-options "…"
//                          --targets real,edge --edge-isolates 4]
//
// The warm-up must cover the time the server's bounded caches take to fill, or their filling is
// read as growth: the ramp (20 s) + the longest answer (60 s) + RESUME_RETENTION_SECONDS (120 s,
// finished streams stay resumable that long) ≈ 3.5 min before the resume buffer is in steady state.
import { parseArgs } from 'node:util'
import { parseCount, parseDuration } from '../tools/load/args.ts'
import type { LoadSummary } from '../tools/load/run.ts'
import { rssMiB, treeCpuSeconds } from '../tools/load/proc.ts'
import { formatRowSizes, measureRowSizes, type RowSizes } from '../tools/load/row-sizes.ts'
import { formatSummary } from '../tools/load/report.ts'
import { spawnLoad } from '../tools/load/spawn-load.ts'
import { LOAD_ENV, startStack } from '../tools/chaos/stack.ts'
import { startEdgeStack } from '../tools/edge/stack.ts'
import postgres, { type Sql } from 'postgres'

const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    streams: { type: 'string', default: '500' },
    interval: { type: 'string', default: '5s' },
    warmup: { type: 'string', default: '4m' },
    ramp: { type: 'string', default: '20s' },
    engine: { type: 'string', default: 'raw' },
    'node-options': { type: 'string', default: '' },
    targets: { type: 'string', default: 'real,edge' },
    'edge-isolates': { type: 'string', default: '4' },
  },
})
const durationMs = Number(values.minutes) * 60_000
const streams = parseCount('streams', values.streams, 1)
const intervalMs = parseDuration(values.interval)
const warmupMs = parseDuration(values.warmup)
const targets = values.targets.split(',')
if (!targets.length || targets.some((t) => t !== 'real' && t !== 'edge')) throw new Error(`--targets: real and/or edge (got ${values.targets})`)
const log = (line: string) => process.stderr.write(`[bench:soak] ${line}\n`)

// Answers of 10–60 s at 10 tokens/s: clients keep starting chats, so every per-chat structure
// (resume buffer, spans, message rows, timers) is created and released thousands of times.
// The streams open when the run ends are left; without RESUME_GRACE_SECONDS 0 the Node server
// would go on generating them into the edge stack's run.
const SIM = { SIM_TOKENS_PER_SECOND: '10', SIM_MIN_TOKENS: '100', SIM_MAX_TOKENS: '600', MAX_OUTPUT_TOKENS: '2000', RESUME_GRACE_SECONDS: '0' }

/** What a soak runs against: where to send load, what to sample, how to stop it. */
interface Served {
  name: 'real' | 'edge'
  url: string
  /** RSS now: the server's, or the live isolates' sum; `largest` is the biggest single process. */
  rss(): { total: number; largest: number }
  cpuSeconds(): number
  sql?: Sql
  stop(): Promise<void>
}

interface Soak {
  name: string
  summary?: LoadSummary
  series: { t: number; rss: number; largest: number }[]
  cpuPercent: number
  sizes?: RowSizes
}

async function startServed(name: string): Promise<Served> {
  if (name === 'real') {
    const stack = await startStack({ env: SIM, nodeOptions: values['node-options'] })
    const pid = stack.pid!
    return {
      name, url: stack.baseUrl, sql: stack.sql, stop: () => stack.stop(), cpuSeconds: () => treeCpuSeconds(pid),
      rss: () => { const r = rssMiB(pid); return { total: r, largest: r } },
    }
  }
  const edge = await startEdgeStack({ isolates: Number(values['edge-isolates']), env: { ...LOAD_ENV, ...SIM }, log })
  const sql = postgres(edge.directUrl, { max: 2, onnotice: () => {} })
  // Recycled isolates take their CPU with them: count each pid's last reading.
  const cpuByPid = new Map<number, number>()
  return {
    name: 'edge', url: edge.gatewayUrl, sql,
    stop: async () => { await sql.end({ timeout: 1 }); await edge.stop() },
    cpuSeconds: () => {
      for (const i of edge.isolates()) {
        const c = treeCpuSeconds(i.pid)
        if (Number.isFinite(c)) cpuByPid.set(i.pid, c)
      }
      return [...cpuByPid.values()].reduce((a, b) => a + b, 0)
    },
    rss: () => {
      const each = edge.isolates().map((i) => rssMiB(i.pid)).filter(Number.isFinite)
      return { total: each.reduce((a, b) => a + b, 0), largest: Math.max(0, ...each) }
    },
  }
}

async function soak(name: string): Promise<Soak> {
  const served = await startServed(name)
  log(`${name} ${served.url}; ${streams} streams for ${values.minutes} min; RSS every ${intervalMs / 1000} s; warm-up ${warmupMs / 1000} s`)
  const series: Soak['series'] = []
  const t0 = performance.now()
  const cpu0 = served.cpuSeconds()
  const sampler = setInterval(() => {
    const { total, largest } = served.rss()
    served.cpuSeconds() // keeps the edge's per-isolate readings current
    series.push({ t: (performance.now() - t0) / 1000, rss: total, largest })
  }, intervalMs)
  let lastProgress = 0
  let summary: LoadSummary | undefined
  try {
    summary = await spawnLoad([
      '--url', served.url, '--streams', String(streams), '--duration', `${durationMs}ms`, '--ramp', values.ramp,
      '--prompt-tokens', '500', '--engine', values.engine,
    ], {
      timeoutMs: durationMs + 180_000,
      onStderr: (text) => {
        // One progress line a minute is enough in a log.
        if (performance.now() - lastProgress < 60_000 || !text.includes('open')) return
        lastProgress = performance.now()
        log(`${name}: ${text.trim().split('\n').at(-1)!}`)
      },
    })
  } catch (err) {
    log(`the ${name} load run failed: ${(err as Error).message}`)
  } finally {
    clearInterval(sampler)
  }
  const cpuPercent = ((served.cpuSeconds() - cpu0) / ((performance.now() - t0) / 1000)) * 100
  // What the run's thousands of chats left in Postgres, per chat: the input of docs/scaling.md.
  const sizes = summary && served.sql ? await measureRowSizes(served.sql, summary.run_id).catch(() => undefined) : undefined
  await served.stop()
  return { name, summary, series, cpuPercent, sizes }
}

const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length)

/** Growth after the warm-up, and the least-squares trend: a leak climbs steadily, a heap breathing does not. */
function growthOf(series: Soak['series']) {
  const after = series.filter((s) => s.t * 1000 >= warmupMs)
  const atWarm = mean(after.slice(0, 3).map((s) => s.rss))
  const atEnd = mean(after.slice(-3).map((s) => s.rss))
  const mx = mean(after.map((s) => s.t))
  const my = mean(after.map((s) => s.rss))
  const num = after.reduce((a, s) => a + (s.t - mx) * (s.rss - my), 0)
  const den = after.reduce((a, s) => a + (s.t - mx) ** 2, 0)
  return {
    atWarm, atEnd, growth: (atEnd / atWarm - 1) * 100, trend: after.length > 1 ? (num / den) * 60 : NaN,
    max: Math.max(...after.map((s) => s.rss)), largest: Math.max(...after.map((s) => s.largest)),
  }
}

function report(s: Soak): string[] {
  const lines = ['', `── ${s.name}: ${streams} streams, ${values.minutes} min, RSS every ${intervalMs / 1000} s`]
  if (s.summary) lines.push('', formatSummary(s.summary))
  lines.push('', 'minute   RSS min   RSS mean   RSS max   largest process')
  for (let m = 0; m * 60 < (s.series.at(-1)?.t ?? 0); m++) {
    const xs = s.series.filter((x) => x.t >= m * 60 && x.t < (m + 1) * 60)
    if (!xs.length) continue
    const rss = xs.map((x) => x.rss)
    lines.push(`${String(m + 1).padStart(6)}   ${Math.min(...rss).toFixed(0).padStart(7)}   ${mean(rss).toFixed(0).padStart(8)}   ${Math.max(...rss).toFixed(0).padStart(7)}   ${Math.max(...xs.map((x) => x.largest)).toFixed(0).padStart(15)}`)
  }
  const g = growthOf(s.series)
  lines.push('', `RSS after warm-up ${g.atWarm.toFixed(1)} MiB → end ${g.atEnd.toFixed(1)} MiB (max ${g.max.toFixed(1)}): growth ${g.growth.toFixed(1)}% (target < 10%); trend ${g.trend.toFixed(2)} MiB/min; largest process ${g.largest.toFixed(0)} MiB${s.name === 'edge' ? ' (platform limit 256 MB)' : ''}`)
  lines.push(`serving CPU ${s.cpuPercent.toFixed(0)}% of a core${s.summary ? `, ${(s.cpuPercent / Math.max(1, s.summary.frames_per_s / 1000)).toFixed(1)}% per 1k frames/s` : ''}`)
  if (s.sizes) lines.push('', formatRowSizes(s.sizes))
  return lines
}

const results: Soak[] = []
for (const name of targets) results.push(await soak(name))
const lines = ['', `bench:soak — ${targets.join(' then ')}`]
for (const s of results) lines.push(...report(s))
const [real, edge] = ['real', 'edge'].map((n) => results.find((r) => r.name === n))
if (real?.summary && edge?.summary) {
  const perK = (s: Soak) => s.cpuPercent / Math.max(1, s.summary!.frames_per_s / 1000)
  lines.push('', `edge vs the Node server: chats done ${edge.summary.chats.done} vs ${real.summary.chats.done} (${(edge.summary.chats.done / Math.max(1, real.summary.chats.done)).toFixed(2)}), failed ${edge.summary.chats.failed} vs ${real.summary.chats.failed}, lost frames ${edge.summary.lost_frames} vs ${real.summary.lost_frames}; serving CPU per 1k frames/s ${(perK(edge) / perK(real)).toFixed(2)}×; RSS growth ${growthOf(edge.series).growth.toFixed(1)}% vs ${growthOf(real.series).growth.toFixed(1)}%`)
}
console.log(lines.join('\n'))
process.exit(results.every((r) => r.summary) ? 0 : 1)
