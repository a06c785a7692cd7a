// chaos:hiccups — connections reset mid-stream and stalls, through the fault proxy; then half-open
// connections. Clients (the project's client library) must resume and end with exactly the answer
// the server stored: no token lost, none repeated.
//
//   npm run chaos:hiccups [-- --streams 30 --duration 20s --seed 1 | --url http://127.0.0.1:54321 --database-url …]
import { createClientEngine } from '../load/client-engine.ts'
import { buildPrompt } from '../load/prompt.ts'
import { runLoad, type ChatRecord } from '../load/run.ts'
import { startFaultProxy } from './fault-proxy.ts'
import { count, createReport, readFlags, signTokens, storedAnswers, tally, withStack } from './scenario.ts'

const flags = readFlags('hiccups', { streams: 30, duration: '20s' })
const report = createReport('hiccups', flags.runId)
const HEARTBEAT_S = 2

const code = await withStack(flags, {
  SIM_TOKENS_PER_SECOND: '20', SIM_MIN_TOKENS: '40', SIM_MAX_TOKENS: '120', HEARTBEAT_SECONDS: String(HEARTBEAT_S),
}, report, async (stack) => {
  const target = new URL(stack.baseUrl)
  const faults = {
    seed: flags.seed,
    latencyMs: 5,
    reset: { probability: 0.4, afterBytes: { min: 300, max: 6_000 } },
    stall: { probability: 0.01, ms: 400 },
  }
  const proxy = await startFaultProxy({ target: { host: target.hostname, port: Number(target.port) }, ...faults })
  report.observe(`fault proxy ${proxy.url} → ${stack.baseUrl}: seed ${flags.seed}, latency 5 ms, 40% of connections reset after 300–6000 bytes, 1% of chunks stalled 400 ms`)
  const tokens = await signTokens(flags.jwtSecret, flags.streams)
  const prompt = buildPrompt(200)
  try {
    // Phase 1: resets and stalls. The drain lets every chat started in the window finish.
    const s = await runLoad({
      url: proxy.url, streams: flags.streams, durationMs: flags.durationMs, rampMs: Math.min(3_000, flags.durationMs),
      drainMs: 60_000, prompt, token: (i) => tokens[i], runId: flags.runId, engine: createClientEngine(), keepChats: true,
    })
    const p = proxy.stats()
    const chats = s.chat_records!
    report.observe(`${chats.length} chats: ${s.chats.done} done, ${s.chats.failed} failed (${tally(chats.filter((c) => c.outcome === 'error').map((c) => c.code ?? '?'))}), ${s.chats.cut_at_end} still open after the drain`)
    report.observe(`proxy: ${p.connections} connections, ${p.resets} reset, ${p.stalls} stalls; clients: ${s.retries} retries, ${s.resumes} resumes`)
    report.expect('the faults happened and clients resumed', p.resets > 0 && s.resumes > 0, `${p.resets} resets, ${s.resumes} resumes`)
    report.expect('every chat ended', s.chats.cut_at_end === 0, `${s.chats.cut_at_end} open after 60 s of drain`)
    report.expect('no frame lost or repeated in what clients received', s.lost_frames === 0 && s.repeated_frames === 0, `${s.lost_frames} lost, ${s.repeated_frames} repeated`)
    const done = chats.filter((c) => c.outcome === 'done')
    report.expect('every chat finished with done', done.length === chats.length, `${done.length} of ${chats.length}`)
    if (stack.sql) {
      const stored = await storedAnswers(stack.sql, done.map((c) => c.trace_id!).filter(Boolean))
      const same = count(done, (c) => stored.get(c.trace_id!)?.content === c.text)
      const mismatched = done.filter((c) => stored.has(c.trace_id!) && stored.get(c.trace_id!)!.content !== c.text)
      report.expect("each finished client's text equals the stored assistant message", same === done.length,
        `${same} of ${done.length} identical${mismatched.length ? `; first mismatch ${describe(mismatched[0], stored.get(mismatched[0].trace_id!)!.content)}` : ''}; ${done.length - same - mismatched.length} not found`)
      const resumedDone = count(done, (c) => c.resumes > 0)
      report.observe(`${resumedDone} of the finished chats were resumed at least once and still match`)
    } else {
      report.observe('no --database-url: stored answers not compared')
    }

    // Phase 2: half-open connections (bytes stop, nothing closes). Only a client that notices the
    // silence (the server sends a heartbeat every HEARTBEAT_SECONDS) can resume.
    proxy.configure({ reset: undefined, stall: undefined, halfOpen: { probability: 0.5, afterBytes: { min: 300, max: 2_000 } } })
    const before = proxy.stats()
    // The client gives up on a silent socket after 3 heartbeats; its resume crosses the proxy too
    // and may be frozen again (p = 0.5): room for five freezes in a row, plus backoff. (With room
    // for three, a chat frozen a fourth time in a row failed one run of four.)
    const waitS = HEARTBEAT_S * 20
    const h = await runLoad({
      url: proxy.url, streams: 6, durationMs: 1_000, rampMs: 0, drainMs: waitS * 1000,
      prompt, token: (i) => tokens[i], runId: flags.runId, engine: createClientEngine(), keepChats: true,
    })
    const after = proxy.stats()
    report.observe(`half-open: ${after.halfOpen - before.halfOpen} connections frozen; of ${h.chat_records!.length} chats ${h.chats.done} done, ${h.chats.failed} failed, ${h.chats.cut_at_end} still waiting after ${waitS} s (${h.resumes} resumes)`)
    // A run in which no connection was frozen proves nothing: it fails and says so.
    const frozen = after.halfOpen - before.halfOpen
    report.expect(`a half-open stream is noticed after 3 silent heartbeats (${HEARTBEAT_S} s) and resumed; all done within ${waitS} s`, frozen > 0 && h.resumes > 0 && h.chats.cut_at_end === 0 && h.chats.done === h.chat_records!.length,
      frozen === 0 ? 'no connection was frozen this run (re-run)' : h.chats.cut_at_end ? `${h.chats.cut_at_end} still waiting on a silent socket` : `all ${h.chats.done} done, ${h.resumes} resumed after 3 heartbeats of silence`)
  } finally {
    await proxy.close()
  }
  return report.finish()
})

function describe(c: ChatRecord, stored: string): string {
  let i = 0
  while (i < c.text.length && c.text[i] === stored[i]) i++
  return `trace ${c.trace_id}: client ${c.text.length} chars, stored ${stored.length}, first difference at ${i}`
}

process.exit(code)
