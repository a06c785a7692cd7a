// bench:load — the real server against a floor, and the functions as Supabase runs them (`npm run
// edge`: Deno isolates behind a gateway, PgBouncer in transaction mode), side by side in the same
// run, with the same load tool (its own process), at increasing stream counts. Prints figures and
// ratios; never fails on a timing (exit 1 only if a run could not be made at all).
//
//   npm run bench:load [-- --levels 500,1000,1500,1750,2000 --duration 40s --ramp 15s --engine raw|client --gap-budget-ms N
//                          --targets floor,real,edge --edge-isolates 4   (isolates per function)
//                          --node-options "--max-semi-space-size=64"   (Node/V8 flags for both servers)
//                          --profile server.cpuprofile]                (CPU profile of the real server, top level, after the ramp)
//
// Both servers stream the simulated provider at 10 frames/s (SIM_TOKENS_PER_SECOND=10) with
// answers longer than a run (2,000 tokens), so every client holds one stream for the whole run.
// The real server has auth, Postgres writes and telemetry on, on a private PostgreSQL cluster.
import { existsSync } from 'node:fs'
import { resolve } from 'node:path'
import { parseArgs } from 'node:util'
import postgres, { type Sql } from 'postgres'
import { parseDuration } from '../tools/load/args.ts'
import { startFloor } from '../tools/load/floor.ts'
import { summarize, type Probe } from '../tools/load/probe.ts'
import { summarizeProfile } from '../tools/load/profile-summary.ts'
import { pidListeningOn, treeCpuSeconds } from '../tools/load/proc.ts'
import type { LoadSummary } from '../tools/load/run.ts'
import { spawnLoad } from '../tools/load/spawn-load.ts'
import { LOAD_ENV, startStack } from '../tools/chaos/stack.ts'
import { startEdgeStack, type EdgeStack } from '../tools/edge/stack.ts'

const { values } = parseArgs({
  options: {
    levels: { type: 'string', default: '500,1000,1500,1750,2000' },
    duration: { type: 'string', default: '40s' },
    ramp: { type: 'string', default: '15s' },
    engine: { type: 'string', default: 'raw' },
    'prompt-tokens': { type: 'string', default: '1000' },
    'gap-budget-ms': { type: 'string' },
    settle: { type: 'string', default: '10s' },
    'node-options': { type: 'string', default: '' },
    profile: { type: 'string' },
    targets: { type: 'string', default: 'floor,real,edge' },
    'edge-isolates': { type: 'string', default: '4' },
  },
})
type Target = 'floor' | 'real' | 'edge'
const targets = values.targets.split(',') as Target[]
if (!targets.includes('floor') || targets.some((t) => !['floor', 'real', 'edge'].includes(t))) {
  throw new Error(`--targets: floor plus any of real, edge (got ${values.targets})`)
}
const levels = values.levels.split(',').map(Number)
const durationMs = parseDuration(values.duration)
const rampMs = parseDuration(values.ramp)
const settleMs = parseDuration(values.settle)
const PROVIDER_GAP_MS = 100
// The load tool leaves every stream when a run ends; a server would otherwise go on generating
// those answers for its reader-less grace (RESUME_GRACE_SECONDS), into the next target's run.
const SIM = { SIM_TOKENS_PER_SECOND: '10', SIM_MIN_TOKENS: '2000', SIM_MAX_TOKENS: '2000', MAX_OUTPUT_TOKENS: '2000', SIM_TTFB_MS: '150', RESUME_GRACE_SECONDS: '0' }

interface Row {
  target: Target
  streams: number
  s: LoadSummary & { engine: string }
  serverCpu: number
  serverLagP99?: number
  pgCpu?: number
  pgActive?: string
  spansPerChat?: number
}

const log = (line: string) => process.stderr.write(`[bench:load] ${line}\n`)
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms))
const f1 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(1))
const f0 = (v: number | undefined) => (v === undefined || !Number.isFinite(v) ? '–' : v.toFixed(0))

log(`levels ${levels.join(', ')}; ${durationMs / 1000}s per run (ramp ${rampMs / 1000}s); ${values.engine} engine; starting the floor and the real server…`)
const nodeOptions = values['node-options']
const floor = await startFloor({ ...SIM, ...(nodeOptions ? { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} ${nodeOptions}`.trim() } : {}) })
const profileFile = values.profile ? resolve(values.profile) : undefined
const stack = await startStack({
  env: { ...SIM, LOG_LEVEL: 'info', ...(profileFile ? { STREAMSCOPE_PROBE_PROFILE: profileFile, STREAMSCOPE_PROBE_PROFILE_MS: String(durationMs - rampMs - 2_000) } : {}) },
  nodeOptions,
})
const pgPid = pidListeningOn(Number(new URL(stack.cluster!.url).port))
log(`floor ${floor.url} (pid ${floor.pid}); real ${stack.baseUrl} (pid ${stack.pid}); PostgreSQL pid ${pgPid}`)
// No recycling during a measurement: a replaced isolate's CPU would drop out of the sum.
const edge: EdgeStack | undefined = targets.includes('edge')
  ? await startEdgeStack({ isolates: Number(values['edge-isolates']), wallClockMs: 0, env: { ...LOAD_ENV, ...SIM }, log })
    .catch(async (err: unknown) => { await floor.stop(); await stack.stop(); throw err })
  : undefined
const edgeSql = edge ? postgres(edge.directUrl, { max: 2, onnotice: () => {} }) : undefined
const edgePgPid = edge ? pidListeningOn(Number(new URL(edge.directUrl).port)) : undefined
if (edge) log(`edge ${edge.gatewayUrl} (${edge.settings.isolates} isolates per function, pool ${edge.settings.poolSize}); PostgreSQL pid ${edgePgPid}`)

const rows: Row[] = []
let clientCost: string | undefined
let exitCode = 0
try {
  for (const streams of levels) {
    for (const target of targets) {
      rows.push(await measure(target, streams))
      const r = rows.at(-1)!
      log(`${target} ${streams}: lost ${r.s.lost_frames}, errors ${r.s.chats.failed}, gap p99 ${f1(r.s.gap_ms.p99)} ms, server CPU ${f0(r.serverCpu)}%, tool CPU ${f0(r.s.tool.cpu_percent)}% lag p99 ${f1(r.s.tool.event_loop_lag_ms.p99)} ms`)
    }
  }
  // The client library's own cost, on the floor at the first level, against the bare engine's.
  if (values.engine === 'raw') {
    const client = await measureFloorWith('client', levels[0])
    const raw = rows.find((r) => r.target === 'floor' && r.streams === levels[0])!
    clientCost = toClientCost(raw, client)
  }
} catch (err) {
  log(`a run failed: ${(err as Error).message}`)
  exitCode = 1
} finally {
  await floor.stop()
  await stack.stop()
  await edgeSql?.end({ timeout: 1 })
  await edge?.stop()
}
printReport(rows)
if (clientCost) console.log(clientCost)
if (profileFile && existsSync(profileFile)) console.log(`\nreal server at ${Math.max(...levels)} streams, ${profileFile}\n${summarizeProfile(profileFile)}`)
process.exit(exitCode)

/** Where a target's load goes, whose CPU counts as its server's, and its database. */
function targetOf(target: Target) {
  if (target === 'floor') return { url: floor.url, pid: floor.pid, sql: undefined, pgPids: [] as number[] }
  if (target === 'real') return { url: stack.baseUrl, pid: stack.pid!, sql: stack.sql, pgPids: pgPid ? [pgPid] : [] }
  const pooler = pidListeningOn(Number(new URL(edge!.poolerUrl).port))
  return { url: edge!.gatewayUrl, pid: undefined, sql: edgeSql, pgPids: [edgePgPid, pooler].filter((p): p is number => p !== undefined) }
}

/** CPU seconds so far of the edge stack's serving side: every isolate (Deno) and the gateway (this process). */
function edgeCpuSeconds(): number {
  const own = process.cpuUsage()
  return edge!.isolates().reduce((sum, i) => sum + treeCpuSeconds(i.pid), 0) + (own.user + own.system) / 1e6
}

async function measure(target: Target, streams: number): Promise<Row> {
  const { url, pid, sql, pgPids } = targetOf(target)
  const runId = `bench-${target}-${streams}-${Date.now().toString(36)}`
  const pgCpuNow = () => pgPids.reduce((sum, p) => sum + treeCpuSeconds(p), 0)
  const pg0 = pgCpuNow()
  const edge0 = target === 'edge' ? edgeCpuSeconds() : 0
  const t0 = performance.now()
  const since = Date.now() + rampMs
  let pgActive: string | undefined
  // The probe starts a CPU profile on SIGUSR2: the steady part of the top level's real run.
  const profileTimer = profileFile && target === 'real' && streams === Math.max(...levels)
    ? setTimeout(() => process.kill(stack.pid!, 'SIGUSR2'), rampMs + 1_000) : undefined
  const peek = sql ? setTimeout(() => { void sampleActivity(sql).then((a) => { pgActive = a }) }, rampMs + (durationMs - rampMs) / 2) : undefined
  const s = await spawnLoad([
    '--url', url, '--streams', String(streams), '--duration', `${durationMs}ms`, '--ramp', `${rampMs}ms`,
    '--prompt-tokens', values['prompt-tokens'], '--engine', values.engine, '--run-id', runId,
    ...(pid ? ['--server-pid', String(pid)] : []),
  ], { timeoutMs: durationMs + 120_000 })
  clearTimeout(peek)
  clearTimeout(profileTimer)
  const wallS = (performance.now() - t0) / 1000
  const pgCpu = pgPids.length ? ((pgCpuNow() - pg0) / wallS) * 100 : undefined
  const serverCpu = target === 'edge' ? ((edgeCpuSeconds() - edge0) / wallS) * 100 : s.server?.cpu_percent ?? NaN
  const probe = target === 'real' ? stack.probe : undefined
  const serverLagP99 = probe ? summarize(probe.read(since).filter((p) => p.t <= since + durationMs - rampMs), 'lag_p99_ms').max : undefined
  await settle(probe)
  let spansPerChat: number | undefined
  if (sql) {
    // Only request spans carry the run id; their traces hold the rest (child spans).
    const [{ n }] = await sql<{ n: number }[]>`
      select count(*)::int as n from telemetry.spans
      where trace_id in (select trace_id from telemetry.spans where run_id = ${runId})`
    spansPerChat = n / Math.max(1, s.chats.started)
  }
  return { target, streams, s, serverCpu, serverLagP99, pgCpu, pgActive, spansPerChat }
}

async function measureFloorWith(engine: string, streams: number) {
  const s = await spawnLoad([
    '--url', floor.url, '--streams', String(streams), '--duration', `${durationMs}ms`, '--ramp', `${rampMs}ms`,
    '--prompt-tokens', values['prompt-tokens'], '--engine', engine, '--server-pid', String(floor.pid),
  ], { timeoutMs: durationMs + 120_000 })
  await settle(undefined)
  return s
}

/** Waits for the cut streams to be stored and the server to go quiet (bounded). */
async function settle(probe: Probe | undefined) {
  await sleep(settleMs)
  if (!probe) return
  for (let i = 0; i < 20; i++) {
    const last = probe.read(Date.now() - 2_000)
    if (last.length && last.every((p) => p.cpu_percent < 10)) return
    await sleep(1_000)
  }
}

async function sampleActivity(sql: Sql): Promise<string> {
  const rows = await sql<{ state: string | null; n: number }[]>`
    select coalesce(state, 'background') as state, count(*)::int as n from pg_stat_activity
    where datname = current_database() and pid <> pg_backend_pid() group by 1 order by 2 desc`
  return rows.map((r) => `${r.state} ${r.n}`).join(', ')
}

function inflation(r: Row) { return r.s.gap_ms.p99 - PROVIDER_GAP_MS }
function clean(r: Row) { return r.s.lost_frames === 0 && r.s.repeated_frames === 0 && r.s.chats.failed === 0 }

function printReport(all: Row[]) {
  const out: string[] = []
  const p = (line = '') => out.push(line)
  p('\nbench:load — floor (node:http + simulated provider) vs real server (auth, Postgres, telemetry) vs edge (Deno isolates behind a gateway, PgBouncer), same load tool')
  p(`each run: ${durationMs / 1000} s, ramp ${rampMs / 1000} s, gaps measured after the ramp; provider gap ${PROVIDER_GAP_MS} ms; ${values.engine} engine; server Node flags: ${nodeOptions || 'none'}`)
  p('')
  p('streams  target  lost  rep  errors  gap p50  gap p99  inflation  ttfb p99  frames/s  server CPU  server lag p99  PG CPU  tool CPU  tool lag p99')
  for (const r of all) {
    p(`${String(r.streams).padStart(7)}  ${r.target.padEnd(6)}  ${String(r.s.lost_frames).padStart(4)}  ${String(r.s.repeated_frames).padStart(3)}  ${String(r.s.chats.failed).padStart(6)}  ${f1(r.s.gap_ms.p50).padStart(7)}  ${f1(r.s.gap_ms.p99).padStart(7)}  ${f1(inflation(r)).padStart(9)}  ${f0(r.s.ttfb_ms.p99).padStart(8)}  ${f0(r.s.frames_per_s).padStart(8)}  ${(f0(r.serverCpu) + '%').padStart(10)}  ${(r.serverLagP99 === undefined ? '–' : f1(r.serverLagP99) + ' ms').padStart(14)}  ${(r.pgCpu === undefined ? '–' : f0(r.pgCpu) + '%').padStart(6)}  ${(f0(r.s.tool.cpu_percent) + '%').padStart(8)}  ${(f1(r.s.tool.event_loop_lag_ms.p99) + ' ms').padStart(12)}`)
    if (Object.keys(r.s.errors).length) p(`         errors: ${JSON.stringify(r.s.errors)}`)
  }
  const served = all.filter((r) => r.target !== 'floor')
  if (served.length) {
    p('')
    p('Postgres during the real and edge runs (pg_stat_activity mid-run; spans stored per chat; edge PG CPU includes PgBouncer):')
    for (const r of served) p(`  ${r.target} ${r.streams} streams: ${r.pgActive ?? '–'}; ${f1(r.spansPerChat)} spans per chat`)
  }
  const floors = all.filter((r) => r.target === 'floor')
  const cleanFloors = floors.filter(clean)
  if (!cleanFloors.length || !served.length) { console.log(out.join('\n')); return }
  const top = cleanFloors.reduce((a, b) => (b.streams > a.streams ? b : a))
  const budget = values['gap-budget-ms'] ? Number(values['gap-budget-ms']) : 1.5 * inflation(top)
  const holds = (rs: Row[]) => rs.filter((r) => clean(r) && inflation(r) <= budget).reduce((m, r) => Math.max(m, r.streams), 0)
  const floorMax = holds(floors)
  p('')
  p(`gap budget: p99 inflation ≤ ${budget.toFixed(1)} ms (${values['gap-budget-ms'] ? '--gap-budget-ms' : `1.5 × the floor's ${inflation(top).toFixed(1)} ms at ${top.streams} streams`})`)
  const held: Partial<Record<Target, number>> = {}
  for (const target of targets.filter((t) => t !== 'floor')) {
    const rows = all.filter((r) => r.target === target)
    held[target] = holds(rows)
    p(`largest stream count within the budget, 0 lost, 0 errors: floor ${floorMax}, ${target} ${held[target]} → ratio ${(held[target]! / Math.max(1, floorMax)).toFixed(2)} (target ≥ 0.80)`)
    const atTop = rows.find((r) => r.streams === top.streams)
    if (atTop) p(`at ${top.streams} streams: ${target} lost ${atTop.s.lost_frames} (target 0), p99 inflation ${inflation(atTop).toFixed(1)} ms vs floor ${inflation(top).toFixed(1)} ms → ratio ${(inflation(atTop) / inflation(top)).toFixed(2)} (target ≤ 1.5)`)
  }
  if (held.real !== undefined && held.edge !== undefined) {
    p(`edge vs the Node server: streams held ${held.edge} vs ${held.real} → ratio ${(held.edge / Math.max(1, held.real)).toFixed(2)}`)
    for (const streams of levels) {
      const [r, e] = (['real', 'edge'] as const).map((t) => all.find((x) => x.target === t && x.streams === streams))
      if (r && e) p(`  ${streams} streams: serving CPU per 1k frames/s ${f1(perKFrames(e))}% vs ${f1(perKFrames(r))}% → ${(perKFrames(e) / perKFrames(r)).toFixed(2)}×; PG CPU ${f0(e.pgCpu)}% vs ${f0(r.pgCpu)}%`)
    }
  }
  console.log(out.join('\n'))
}

function perKFrames(r: Row) { return r.serverCpu / Math.max(1, r.s.frames_per_s / 1000) }

function toClientCost(raw: Row, client: LoadSummary): string {
  const per = (s: LoadSummary) => s.tool.cpu_percent / Math.max(1, s.frames_per_s / 1000)
  return [
    '',
    `load tool cost on the floor at ${raw.streams} streams (${f0(raw.s.frames_per_s)} frames/s):`,
    `  bare node:http engine   CPU ${f0(raw.s.tool.cpu_percent)}% (${f1(per(raw.s))}% per 1k frames/s), lag p99 ${f1(raw.s.tool.event_loop_lag_ms.p99)} ms, gap p99 ${f1(raw.s.gap_ms.p99)} ms, RSS ${f0(raw.s.tool.rss_mib)} MiB`,
    `  client library engine   CPU ${f0(client.tool.cpu_percent)}% (${f1(per(client))}% per 1k frames/s), lag p99 ${f1(client.tool.event_loop_lag_ms.p99)} ms, gap p99 ${f1(client.gap_ms.p99)} ms, RSS ${f0(client.tool.rss_mib)} MiB`,
    `  → the client library costs ${(per(client) / Math.max(0.01, per(raw.s))).toFixed(1)}× the bare client per frame`,
  ].join('\n')
}
