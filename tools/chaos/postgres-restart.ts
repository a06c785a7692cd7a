// chaos:postgres — PostgreSQL stops in the middle of a run and comes back. Streams already running
// must go on (their tokens come from the provider, not the database) and their answers be stored
// once it is back (the server retries that write for STORE_RETRY_SECONDS); new chats get 503
// database_unavailable while it is down; the telemetry queued meanwhile must reach the tables once
// it is back, losing nothing beyond the pipeline's documented bound (its `dropped` count).
//
//   npm run chaos:postgres [-- --streams 40 --duration 30s --outage 10s]   (needs its own cluster: no --url)
import { parseDuration } from '../load/args.ts'
import { createClientEngine } from '../load/client-engine.ts'
import { buildPrompt } from '../load/prompt.ts'
import { runLoad, type ChatRecord } from '../load/run.ts'
import { count, createReport, readFlags, signTokens, storedAnswers, tally, waitFor, withStack } from './scenario.ts'

const flags = readFlags('postgres', { streams: 40, duration: '30s' }, { outage: { type: 'string', default: '10s' } })
const outageMs = parseDuration(flags.extra.outage!)
if (flags.url) {
  console.error('chaos:postgres stops and starts its own PostgreSQL cluster; it cannot take --url')
  process.exit(2)
}
const report = createReport('postgres', flags.runId)
const stopAt = Math.min(8_000, flags.durationMs / 4)
const startAt = stopAt + outageMs

const code = await withStack(flags, {
  // Answers of 7.5–12.5 s: plenty of streams are in flight when the database goes away.
  SIM_TOKENS_PER_SECOND: '20', SIM_MIN_TOKENS: '150', SIM_MAX_TOKENS: '250',
}, report, async (stack) => {
  const tokens = await signTokens(flags.jwtSecret, flags.streams)
  const t0 = performance.now()
  const timers = [
    setTimeout(() => { report.observe('stopping PostgreSQL (pg_ctl stop -m immediate)'); stack.cluster!.stop(); report.observe('PostgreSQL is down') }, stopAt),
    setTimeout(() => { report.observe('starting PostgreSQL'); stack.cluster!.start(); report.observe('PostgreSQL is up') }, startAt),
    // The load's clients are all busy with streams across the outage: ask a few new questions
    // directly, mid-outage, to see how a request that needs the database is answered.
    setTimeout(() => { probes = probeOutage(stack.baseUrl, tokens[0], 5) }, stopAt + outageMs / 2),
  ]
  let probes: Promise<{ status: number; code: string; retryAfter: string | null; ms: number }[]> | undefined
  let s
  try {
    s = await runLoad({
      url: stack.baseUrl, streams: flags.streams, durationMs: flags.durationMs, rampMs: Math.min(4_000, stopAt),
      drainMs: 30_000, prompt: buildPrompt(200), token: (i) => tokens[i], runId: flags.runId,
      engine: createClientEngine(), keepChats: true,
    })
  } finally {
    timers.forEach(clearTimeout)
  }
  const offset = s.clock_start - t0 // the run's clock started a little after ours
  const chats = s.chat_records!.map((c) => ({ ...c, started_at: c.started_at + offset, ended_at: c.ended_at + offset }))
  const inFlight = chats.filter((c) => c.first_delta_at !== null && c.first_delta_at < stopAt && c.ended_at > stopAt)
  const during = chats.filter((c) => c.started_at >= stopAt && c.started_at < startAt)
  const after = chats.filter((c) => c.started_at >= startAt + 2_000)
  const line = (name: string, cs: ChatRecord[]) =>
    `${name}: ${cs.length} chats, ${count(cs, (c) => c.outcome === 'done')} done, errors ${tally(cs.filter((c) => c.outcome === 'error').map((c) => c.code ?? '?'))}`
  report.observe(line('in flight when it stopped', inFlight))
  report.observe(line('started during the outage', during))
  report.observe(line('started 2 s after it came back', after))
  report.observe(`client retries ${s.retries} (503 + retry-after: 1 are retried by the client library)`)

  // In-flight streams: every token reached the client, and the answer is stored once the database
  // is back (the server retries that write for STORE_RETRY_SECONDS, 30 s, longer than the outage).
  report.expect('streams in flight went on to their end and were stored: all done',
    inFlight.length > 0 && inFlight.every((c) => c.outcome === 'done'),
    `${inFlight.length} in flight; end codes: ${tally(inFlight.map((c) => c.outcome === 'done' ? 'done' : c.code ?? c.outcome))}`)
  const asked = (await probes) ?? []
  report.observe(`asked mid-outage: ${asked.map((p) => `${p.status} ${p.code} (retry-after ${p.retryAfter ?? '–'}) in ${p.ms.toFixed(0)} ms`).join('; ') || 'nothing (the outage ended first)'}`)
  report.expect('new chats during the outage were refused at once with 503 database_unavailable and retry-after, never hung',
    asked.length > 0 && asked.every((p) => p.status === 503 && p.code === 'database_unavailable' && p.retryAfter !== null && p.ms < 5_000)
      && during.every((c) => c.outcome === 'done' || c.code?.startsWith('database_unavailable')),
    `${asked.length} asked directly: ${tally(asked.map((p) => `${p.status} ${p.code}`))}; load chats started in the outage: ${tally(during.map((c) => (c.outcome === 'done' ? 'done (after a retry)' : c.code ?? c.outcome))) || 'none'}`)
  report.expect('chats after the restart succeed', after.length > 0 && after.every((c) => c.outcome === 'done' || c.outcome === 'cut_at_end'),
    `${count(after, (c) => c.outcome === 'done')} of ${after.length} done`)

  const sql = stack.sql!
  const done = chats.filter((c) => c.outcome === 'done' && c.trace_id)
  const stored = await storedAnswers(sql, done.map((c) => c.trace_id!))
  report.expect('every chat that ended with done has its answer stored', count(done, (c) => stored.get(c.trace_id!)?.content === c.text) === done.length,
    `${count(done, (c) => stored.get(c.trace_id!)?.content === c.text)} of ${done.length}`)

  // Telemetry: every request the server answered has its server span, unless the pipeline says it dropped it.
  const requests = chats.reduce((n, c) => n + 1 + c.retries, 0)
  const spans = async () => {
    const [{ n }] = await sql<{ n: number }[]>`
      select count(*)::int as n from telemetry.spans where run_id = ${flags.runId} and kind = 'server'`
    return n
  }
  let last = -1
  const settled = await waitFor(async () => {
    const n = await spans()
    const stable = n === last
    last = n
    return stable && n > 0 ? n : undefined
  }, 60_000, 2_000)
  const dropped = lastPipelineStats(stack.output())
  const inFlightFrames = await sql<{ trace_id: string; frames: number | null }[]>`
    select trace_id, frames from telemetry.spans
    where run_id = ${flags.runId} and kind = 'server' and trace_id = any(${inFlight.map((c) => c.trace_id!).filter(Boolean)}::text[])`
  const framesByTrace = new Map(inFlightFrames.map((r) => [r.trace_id, r.frames]))
  const byStatus = await sql<{ status: number | null; n: number }[]>`
    select http_status as status, count(*)::int as n from telemetry.spans
    where run_id = ${flags.runId} and kind = 'server' group by 1 order by 1`
  report.observe(`server spans for the run: ${settled ?? last} stored for ~${requests} requests sent (chats + client retries); by HTTP status: ${byStatus.map((r) => `${r.status ?? '?'} ${r.n}`).join(', ')}`)
  report.observe(`pipeline counters in the server's last "telemetry write failed" line: ${dropped ? JSON.stringify(dropped) : 'none logged'}`)
  report.expect('telemetry caught up: a server span per request, short only by what the pipeline counted as dropped',
    (settled ?? 0) + (dropped?.dropped ?? 0) >= requests - count(chats, (c) => c.outcome === 'cut_at_end'),
    `${settled ?? last} spans + ${dropped?.dropped ?? 0} dropped vs ${requests} requests`)
  report.expect("in-flight streams: the client got every frame the server's span counted",
    inFlight.every((c) => framesByTrace.get(c.trace_id!) === c.frames),
    `${count(inFlight, (c) => framesByTrace.get(c.trace_id!) === c.frames)} of ${inFlight.length} match (frames column of the request span)`)
  return report.finish()
})

/** The last "telemetry write failed" line the server printed carries the pipeline's counters. */
function lastPipelineStats(output: string): { queued: number; written: number; dropped: number; failures: number } | undefined {
  let found
  for (const line of output.split('\n')) {
    if (!line.includes('telemetry write failed')) continue
    try { found = JSON.parse(line.slice(line.indexOf('{'))) } catch { /* not the JSON line */ }
  }
  return found
}

process.exit(code)

/** n chat requests at once, without retries: status, error code, retry-after and how long each took. */
function probeOutage(baseUrl: string, token: string, n: number) {
  return Promise.all(Array.from({ length: n }, async () => {
    const t = performance.now()
    const res = await fetch(`${baseUrl}/functions/v1/chat`, {
      method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ session_id: crypto.randomUUID(), content: 'asked while the database is down' }),
      signal: AbortSignal.timeout(30_000),
    }).catch(() => undefined)
    const body = res ? await res.text() : ''
    let code = res ? `http_${res.status}` : 'network_error'
    try { code = JSON.parse(body).error?.code ?? code } catch { /* a stream: it was answered */ if (res?.ok) code = 'stream' }
    return { status: res?.status ?? 0, code, retryAfter: res?.headers.get('retry-after') ?? null, ms: performance.now() - t }
  }))
}
