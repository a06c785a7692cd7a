// chaos:provider — a failing provider (before the first token and mid-stream), then a slow one
// (long time to first token). Every chat must end with a clear outcome, stored with its status.
//
//   npm run chaos:provider [-- --streams 20 --duration 15s --seed 1]   (own server: the SIM_* settings are the faults)
import http from 'node:http'
import { createClientEngine } from '../load/client-engine.ts'
import { buildPrompt } from '../load/prompt.ts'
import { runLoad } from '../load/run.ts'
import { count, createReport, readFlags, signTokens, storedAnswers, tally, waitFor, withStack } from './scenario.ts'

const flags = readFlags('provider', { streams: 20, duration: '15s' })
if (flags.url) {
  console.error('chaos:provider sets the simulated provider of its own server; it cannot take --url')
  process.exit(2)
}
const report = createReport('provider', flags.runId)
const FAIL_BEFORE = 0.2
const FAIL_MID = 0.2
const SLOW_TTFB_MS = 8_000
const HEARTBEAT_S = 2
const prompt = buildPrompt(200)
const tokens = await signTokens(flags.jwtSecret, flags.streams)

report.observe(`phase 1: SIM_FAILURE_RATE=${FAIL_BEFORE} SIM_MID_STREAM_FAILURE_RATE=${FAIL_MID} SIM_SEED=${flags.seed}`)
await withStack(flags, {
  SIM_FAILURE_RATE: String(FAIL_BEFORE), SIM_MID_STREAM_FAILURE_RATE: String(FAIL_MID), SIM_SEED: String(flags.seed),
  SIM_TOKENS_PER_SECOND: '40', SIM_MIN_TOKENS: '20', SIM_MAX_TOKENS: '60',
}, report, async (stack) => {
  const s = await runLoad({
    url: stack.baseUrl, streams: flags.streams, durationMs: flags.durationMs, rampMs: 2_000, drainMs: 20_000,
    prompt, token: (i) => tokens[i], runId: `${flags.runId}-fail`, engine: createClientEngine(), keepChats: true,
  })
  const chats = s.chat_records!
  const n = chats.length
  const before = chats.filter((c) => c.code === 'provider_unavailable')
  const mid = chats.filter((c) => c.code === 'provider_stream_error')
  report.observe(`${n} chats: ${tally(chats.map((c) => (c.outcome === 'done' ? 'done' : c.code ?? c.outcome)))}`)
  report.expect('every chat ended with done or a provider error frame', count(chats, (c) => c.outcome === 'done') + before.length + mid.length === n,
    tally(chats.map((c) => (c.outcome === 'done' ? 'done' : c.code ?? c.outcome))))
  // Failures follow the seeded request order; the shares should sit near the rates (3 sigma + slack).
  const within = (seen: number, p: number) => Math.abs(seen / n - p) <= 3 * Math.sqrt((p * (1 - p)) / n) + 0.05
  const pMid = (1 - FAIL_BEFORE) * FAIL_MID
  report.expect('failure shares match the configured rates', within(before.length, FAIL_BEFORE) && within(mid.length, pMid),
    `before the first token ${(before.length / n).toFixed(2)} (expected ${FAIL_BEFORE}), mid-stream ${(mid.length / n).toFixed(2)} (expected ${pMid.toFixed(2)})`)
  report.expect('failures before the first token sent no delta', before.every((c) => c.frames === 0), `${count(before, (c) => c.frames === 0)} of ${before.length}`)
  report.expect('mid-stream failures delivered deltas first', mid.every((c) => c.frames > 0), `${count(mid, (c) => c.frames > 0)} of ${mid.length}`)

  const sql = stack.sql!
  const failed = [...before, ...mid].filter((c) => c.trace_id)
  const stored = await storedAnswers(sql, failed.map((c) => c.trace_id!))
  report.expect('each failed answer is stored with status error and exactly the text the client got',
    failed.every((c) => stored.get(c.trace_id!)?.status === 'error' && stored.get(c.trace_id!)?.content === c.text),
    `${count(failed, (c) => stored.get(c.trace_id!)?.status === 'error' && stored.get(c.trace_id!)?.content === c.text)} of ${failed.length}`)
  const spans = await waitFor(async () => {
    const rows = await sql<{ error_type: string; n: number }[]>`
      select error_type, count(*)::int as n from telemetry.spans
      where run_id = ${`${flags.runId}-fail`} and kind = 'server' and error_type is not null group by 1`
    const total = rows.reduce((a, r) => a + r.n, 0)
    return total >= failed.length ? rows : undefined
  }, 15_000)
  report.expect('the request spans carry the error codes', spans !== undefined,
    spans ? spans.map((r) => `${r.error_type} ${r.n}`).join(', ') : `fewer than ${failed.length} error spans after 15 s`)
})

report.observe(`phase 2: SIM_TTFB_MS=${SLOW_TTFB_MS}, HEARTBEAT_SECONDS=${HEARTBEAT_S}`)
await withStack(flags, {
  SIM_TTFB_MS: String(SLOW_TTFB_MS), HEARTBEAT_SECONDS: String(HEARTBEAT_S),
  SIM_TOKENS_PER_SECOND: '40', SIM_MIN_TOKENS: '20', SIM_MAX_TOKENS: '40',
}, report, async (stack) => {
  const heartbeats = countHeartbeats(stack.baseUrl, tokens[0])
  const s = await runLoad({
    url: stack.baseUrl, streams: flags.streams, durationMs: Math.min(flags.durationMs, 10_000), rampMs: 1_000, drainMs: SLOW_TTFB_MS + 15_000,
    prompt, token: (i) => tokens[i], runId: `${flags.runId}-slow`, engine: createClientEngine(), keepChats: true,
  })
  const beats = await heartbeats
  report.observe(`${s.chats.started} chats: ${s.chats.done} done, ${s.chats.failed} failed (${tally(s.chat_records!.filter((c) => c.outcome === 'error').map((c) => c.code ?? '?'))}); TTFB p50 ${s.ttfb_ms.p50.toFixed(0)} ms, max ${s.ttfb_ms.max.toFixed(0)} ms`)
  report.expect('slow first tokens: every chat still finished', s.chats.done === s.chats.started, `${s.chats.done} of ${s.chats.started}`)
  report.expect(`the client waited at least the provider's ${SLOW_TTFB_MS} ms`, s.ttfb_ms.min >= SLOW_TTFB_MS, `TTFB min ${s.ttfb_ms.min.toFixed(0)} ms`)
  report.expect('heartbeats kept the silent connection alive', beats >= Math.floor(SLOW_TTFB_MS / 1000 / HEARTBEAT_S) - 1,
    `${beats} ': heartbeat' comments before the first delta (one every ${HEARTBEAT_S} s expected)`)
})

/** One raw request: how many heartbeat comments arrive before the first delta. */
function countHeartbeats(baseUrl: string, token: string): Promise<number> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ session_id: crypto.randomUUID(), content: 'heartbeat probe' })
    const req = http.request(`${baseUrl}/functions/v1/chat`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-streamscope-run-id': `${flags.runId}-slow` },
    }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        text += d
        if (text.includes('event: chat.delta')) {
          res.destroy()
          resolve(text.slice(0, text.indexOf('event: chat.delta')).split(': heartbeat').length - 1)
        }
      })
      res.on('close', () => resolve(text.split(': heartbeat').length - 1))
    })
    req.on('error', () => resolve(0))
    req.end(body)
  })
}

process.exit(report.finish())
