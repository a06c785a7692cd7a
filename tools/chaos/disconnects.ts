// chaos:disconnects — clients that go away mid-stream, half of them closing their socket (FIN),
// half resetting it (RST). After the resume grace the server must abort the upstream and store
// what was generated with status `cut`; the client's text is a prefix of it.
//
//   npm run chaos:disconnects [-- --streams 30 --seed 1 --grace 2 | --url … --database-url …]
import http from 'node:http'
import type { Socket } from 'node:net'
import { parseCount } from '../load/args.ts'
import { buildPrompt, promptFor } from '../load/prompt.ts'
import { createRandom } from '../../shared/random.ts'
import { count, createReport, readFlags, signTokens, storedAnswers, tally, waitFor, withStack } from './scenario.ts'

const flags = readFlags('disconnects', { streams: 30, duration: '20s' }, { grace: { type: 'string', default: '2' } })
const graceS = parseCount('grace', flags.extra.grace!)
const report = createReport('disconnects', flags.runId)
const MIN_TOKENS = 100

interface Leaver { traceId?: string; text: string; frames: number; leaveAfter: number; how: 'fin' | 'rst'; left: boolean; error?: string }

/** One chat that hangs up after `leaveAfter` deltas. */
function chatAndLeave(baseUrl: string, token: string, content: string, l: Leaver): Promise<void> {
  return new Promise((resolve) => {
    const body = JSON.stringify({ session_id: crypto.randomUUID(), content })
    const req = http.request(`${baseUrl}/functions/v1/chat`, {
      method: 'POST', agent: false,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'x-streamscope-run-id': flags.runId },
    }, (res) => {
      l.traceId = res.headers['x-trace-id'] as string | undefined
      let buf = ''
      res.setEncoding('utf8')
      res.on('data', (d: string) => {
        if (l.left) return
        buf += d
        let i
        while ((i = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, i)
          buf = buf.slice(i + 2)
          const data = /^data: (.*)$/m.exec(block)?.[1]
          if (!block.startsWith('event: chat.delta') || !data) continue
          l.text += (JSON.parse(data) as { delta: string }).delta
          if (++l.frames >= l.leaveAfter) {
            l.left = true
            const socket = res.socket as Socket
            if (l.how === 'rst') socket.resetAndDestroy()
            else socket.destroy()
            return resolve()
          }
        }
      })
      res.on('close', () => resolve())
    })
    req.on('error', (e) => { if (!l.left) l.error = e.message; resolve() })
    req.end(body)
  })
}

const code = await withStack(flags, {
  SIM_TOKENS_PER_SECOND: '20', SIM_MIN_TOKENS: String(MIN_TOKENS), SIM_MAX_TOKENS: '200', RESUME_GRACE_SECONDS: String(graceS),
}, report, async (stack) => {
  const random = createRandom(flags.seed)
  const tokens = await signTokens(flags.jwtSecret, flags.streams)
  const prompt = buildPrompt(100)
  const leavers: Leaver[] = Array.from({ length: flags.streams }, (_, i) => ({
    text: '', frames: 0, leaveAfter: 1 + Math.floor(random() * 40), how: i % 2 ? 'rst' : 'fin', left: false,
  }))
  report.observe(`${leavers.length} clients leave after 1–40 deltas (half FIN, half RST); answers are ${MIN_TOKENS}–200 tokens at 20/s; resume grace ${graceS} s`)
  await Promise.all(leavers.map((l, i) => chatAndLeave(stack.baseUrl, tokens[i], promptFor(prompt, i, 0), l)))
  const left = leavers.filter((l) => l.left && l.traceId)
  report.observe(`${left.length} left mid-stream (${tally(left.map((l) => l.how))}); ${count(leavers, (l) => Boolean(l.error))} request errors`)
  report.expect('every client got its stream and left mid-way', left.length === leavers.length, `${left.length} of ${leavers.length}`)
  if (!stack.sql) {
    report.observe('no --database-url: stored messages not checked')
    return report.finish()
  }
  const sql = stack.sql
  const ids = left.map((l) => l.traceId!)
  const stored = await waitFor(async () => {
    const m = await storedAnswers(sql, ids)
    return m.size === ids.length ? m : undefined
  }, (graceS + 15) * 1000)
  report.expect(`after the ${graceS} s grace every answer is stored`, stored !== undefined, `${stored?.size ?? 'not all'} of ${ids.length}`)
  if (!stored) return report.finish()
  report.expect('…with status cut', left.every((l) => stored.get(l.traceId!)!.status === 'cut'), tally(left.map((l) => stored.get(l.traceId!)!.status)))
  const prefix = count(left, (l) => stored.get(l.traceId!)!.content.startsWith(l.text))
  report.expect("…holding what the client received (the client's text is a prefix of it)", prefix === left.length, `${prefix} of ${left.length}`)
  const extra = left.map((l) => (stored.get(l.traceId!)!.output_tokens ?? 0) - l.frames)
  report.observe(`frames generated beyond what the client read before leaving: ${tally(extra.map(String))}`)
  report.expect('the upstream was aborted: generation stopped short of the whole answer', left.every((l) => (stored.get(l.traceId!)!.output_tokens ?? Infinity) < MIN_TOKENS),
    `generated at most ${Math.max(...left.map((l) => stored.get(l.traceId!)!.output_tokens ?? 0))} tokens (answers are ≥ ${MIN_TOKENS})`)

  const spans = await waitFor(async () => {
    const rows = await sql<{ trace_id: string; end_reason: string | null; provider_error: string | null }[]>`
      select r.trace_id, r.end_reason, p.error_type as provider_error
      from telemetry.spans r
      left join telemetry.spans p on p.trace_id = r.trace_id and p.kind = 'client' and p.name like 'chat %'
      where r.run_id = ${flags.runId} and r.kind = 'server'`
    return rows.length >= ids.length ? rows : undefined
  }, 15_000)
  report.expect('request spans end with client_abort and the provider span records the abort',
    spans !== undefined && spans.every((r) => r.end_reason === 'client_abort' && r.provider_error === 'client_abort'),
    spans ? `end_reason ${tally(spans.map((r) => r.end_reason ?? 'null'))}; provider error_type ${tally(spans.map((r) => r.provider_error ?? 'null'))}` : 'spans not all written after 15 s')
  return report.finish()
})

process.exit(code)
