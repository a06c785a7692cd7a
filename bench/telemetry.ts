// npm run bench:telemetry — the telemetry benchmarks, figures and
// ratios against a baseline measured in the same run. Not a test: no assertions.
//   BENCH_SPANS (200000), BENCH_ROUNDS (6), BENCH_STREAMS (600 per round), BENCH_CONCURRENCY (50),
//   BENCH_CAPACITY_CONCURRENCY (200), BENCH_TOKENS (answer lengths: '30,20-120')
import postgres from 'postgres'
import { migrate } from '../shared/db/migrate.ts'
import { readMigrations } from '../server/migrations.ts'
import { NO_DELAY_SOCKET } from '../shared/db/pg-socket.ts'
import { findPgBin, startCluster } from '../tests/support/pg-cluster.ts'
import { benchFreshness } from './telemetry-freshness.ts'
import { benchEncode } from './telemetry-encode.ts'
import { benchIngest, makeRows } from './telemetry-ingest.ts'
import { createCpuMeter } from './telemetry-cpu.ts'
import { benchEnv, benchOverhead } from './telemetry-overhead.ts'

const int = (name: string, fallback: number) => Number(process.env[name] ?? fallback)
const spans = int('BENCH_SPANS', 200_000)
const rounds = int('BENCH_ROUNDS', 6)
const perRound = int('BENCH_STREAMS', 600)
const concurrency = int('BENCH_CONCURRENCY', 50)
const only = process.env.BENCH_ONLY // overhead | encode | ingest | freshness

const bin = findPgBin()
if (!bin) throw new Error('needs a PostgreSQL server (apt-get install postgresql-15)')
const cluster = await startCluster(bin)
// idle_timeout 0: backends stay alive, so their CPU stays readable in /proc.
// The server's connection settings (TCP_NODELAY: shared/db/pg-socket.ts).
const sql = postgres(cluster.url, { max: 10, idle_timeout: 0, onnotice: () => {}, ...NO_DELAY_SOCKET })
const ms = (x: number) => `${x.toFixed(2)} ms`
const pct = (x: number) => `${(x * 100).toFixed(1)} %`
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]
try {
  await migrate(sql, await readMigrations())
  console.log(`telemetry benchmarks — private PostgreSQL cluster, Node ${process.version}\n`)

  const cpu = await createCpuMeter(sql)
  if (!only || only === 'overhead') {
    const ttfbConcurrency = int('BENCH_TTFB_CONCURRENCY', 10)
    const capacityConcurrency = int('BENCH_CAPACITY_CONCURRENCY', 200)
    // Answer lengths: 30 tokens (short answers: the fixed cost of a request's telemetry
    // weighs most) and the simulated provider's own default, 20-120 tokens.
    const workloads = (process.env.BENCH_TOKENS ?? '30,20-120').split(',').map((w) => w.split('-').map(Number))
    for (const [min, max = min] of workloads) {
      const r = await benchOverhead(sql, { rounds, perRound, concurrency, capacityConcurrency, ttfbConcurrency, cpu, env: benchEnv(min, max) })
      const { off, on, floor, otlp } = r.figures
      const tokens = min === max ? `${min} tokens` : `${min}-${max} tokens`
      console.log(`1. chat handler in-process, telemetry on (tracer + Postgres pipeline + pricing + rollups + logs) vs off (sampling off: trace ids only, no pipeline)`)
      console.log(`   answers of ${tokens}; ${r.streams} streams per mode in ${rounds} interleaved rounds; simulated provider: TTFB 20 ms, 4000 tokens/s; Postgres on the same 2 cores`)
      console.log(`   TTFB at ${ttfbConcurrency} concurrent   p50 on ${ms(on.p50)} off ${ms(off.p50)} added ${ms(on.p50 - off.p50)} (target <= 0.5 ms)`)
      console.log(`                          p95 on ${ms(on.p95)} off ${ms(off.p95)} added ${ms(on.p95 - off.p95)}`)
      const spread = (xs: number[]) => `median ${pct(median(xs))} (rounds ${[...xs].sort((a, b) => a - b).map(pct).join(', ')})`
      console.log(`   throughput at ${concurrency} concurrent   on ${on.streamsPerSecond.toFixed(1)}/s off ${off.streamsPerSecond.toFixed(1)}/s ratio ${pct(on.streamsPerSecond / off.streamsPerSecond)} (target >= 95 %)`)
      console.log(`     per round, on / off of the same round: ${spread(r.roundRatios.on)}`)
      console.log(`   capacity at ${capacityConcurrency} concurrent  on ${on.capacityPerSecond.toFixed(1)}/s off ${off.capacityPerSecond.toFixed(1)}/s ratio ${pct(on.capacityPerSecond / off.capacityPerSecond)}`)
      console.log(`     per round: ${spread(r.capacityRatios.on)}`)
      console.log(`   CPU per stream (node + postgres)  on ${ms(on.cpuMsPerStream)} off ${ms(off.cpuMsPerStream)} (node alone: on ${ms(on.nodeMsPerStream)} off ${ms(off.nodeMsPerStream)}); CPU-bound throughput ratio ${pct(off.cpuMsPerStream / on.cpuMsPerStream)}`)
      console.log(`   floor (the spans alone, COPYed: no pricing, rollups or logs)  throughput ${floor.streamsPerSecond.toFixed(1)}/s ratio ${pct(floor.streamsPerSecond / off.streamsPerSecond)}, per round ${spread(r.roundRatios.floor)}`)
      console.log(`     capacity ${floor.capacityPerSecond.toFixed(1)}/s ratio ${pct(floor.capacityPerSecond / off.capacityPerSecond)}; CPU per stream ${ms(floor.cpuMsPerStream)} (node ${ms(floor.nodeMsPerStream)}); TTFB p50 added ${ms(floor.p50 - off.p50)}`)
      // The stock path's telemetry costs Node CPU only (its collector is elsewhere); so does the function's share of ours.
      const added = (m: typeof on) => m.nodeMsPerStream - off.nodeMsPerStream
      console.log(`   stock OpenTelemetry (BatchSpanProcessor + OTLP/HTTP to a local sink)  throughput ${otlp.streamsPerSecond.toFixed(1)}/s ratio ${pct(otlp.streamsPerSecond / off.streamsPerSecond)}; node CPU per stream ${ms(otlp.nodeMsPerStream)}; TTFB p50 added ${ms(otlp.p50 - off.p50)}`)
      console.log(`     node CPU telemetry adds per stream: full ${ms(added(on))} vs stock ${ms(added(otlp))} -> ${(added(on) / added(otlp)).toFixed(2)}x (goal <= 1.0x); node CPU per stream ${(on.nodeMsPerStream / otlp.nodeMsPerStream).toFixed(2)}x`)
      console.log(`     the stock path's sink received ${r.otlpSpans.received} of the ${r.otlpSpans.ended} spans it ended\n`)
    }
  }
  if (!only || only === 'encode') {
    const r = await benchEncode(sql)
    const ours = r.rounds.map((x) => x.rowAndLineUs), stock = r.rounds.map((x) => x.otlpUs)
    const ratios = r.rounds.map((x) => x.rowAndLineUs / x.otlpUs)
    console.log(`4. the encoder alone, ${r.spans} spans of 20 chats, ${r.rounds.length} interleaved rounds, Node CPU per span`)
    console.log(`   row + COPY line (to-span-row.ts, copy.ts) median ${median(ours).toFixed(2)} us; stock OTLP/JSON serializer median ${median(stock).toFixed(2)} us`)
    console.log(`   ratio per round ${ratios.map((x) => x.toFixed(2)).join(', ')}; median ${median(ratios).toFixed(2)}x\n`)
  }
  if (!only || only === 'ingest') {
    const rows = makeRows(spans)
    for (const c of [1, 2]) {
      const results = await benchIngest(sql, rows, 3, c, cpu)
      const of = (name: string) => results.filter((x) => x.name === name).map((x) => x.spansPerSecond)
      const [copy, pipeline] = [of('copy'), of('pipeline')]
      // Each pipeline round against the COPY round just before it: robust to a machine whose load drifts.
      const ratios = pipeline.map((p, i) => p / copy[i]).sort((a, b) => a - b)
      console.log(`2. ingestion of ${spans} spans (6-span chat traces, ~60-frame streams), 3 interleaved rounds, pipeline concurrency ${c}`)
      console.log(`   pipeline (COPY; priced spans via a stage + INSERT, rollups) median ${median(pipeline).toFixed(0)} spans/s (best ${Math.max(...pipeline).toFixed(0)})`)
      console.log(`   raw COPY                                          median ${median(copy).toFixed(0)} spans/s (best ${Math.max(...copy).toFixed(0)})`)
      console.log(`   ratio per round ${ratios.map(pct).join(', ')}; median ${pct(median(ratios))}   (targets >= 50000/s, >= 50 %)`)
      const cpuOf = (name: string, key: 'cpuUsPerSpan' | 'pgUsPerSpan') => median(results.filter((x) => x.name === name).map((x) => x[key]))
      const us = (name: string, key: 'cpuUsPerSpan' | 'pgUsPerSpan') => `${cpuOf(name, key).toFixed(1)} us`
      console.log(`   CPU per span (node + postgres): pipeline ${us('pipeline', 'cpuUsPerSpan')}, COPY ${us('copy', 'cpuUsPerSpan')}; CPU-bound ratio ${pct(cpuOf('copy', 'cpuUsPerSpan') / cpuOf('pipeline', 'cpuUsPerSpan'))}`)
      console.log(`   Postgres CPU per span: pipeline ${us('pipeline', 'pgUsPerSpan')}, raw COPY ${us('copy', 'pgUsPerSpan')} -> ${(cpuOf('pipeline', 'pgUsPerSpan') / cpuOf('copy', 'pgUsPerSpan')).toFixed(2)}x\n`)
    }
  }
  if (!only || only === 'freshness') {
    const r = await benchFreshness(sql, { streams: 300, concurrency: 10 })
    console.log(`3. freshness, stream end -> request span queryable (${r.measured} streams, 10 concurrent)`)
    console.log(`   p50 ${ms(r.p50)}  p95 ${ms(r.p95)}  max ${ms(r.max)}${r.missing ? `  NOT SEEN: ${r.missing}` : ''}   (target p95 <= 2000 ms)\n`)
  }
} finally {
  await sql.end({ timeout: 5 })
  cluster.destroy()
}
