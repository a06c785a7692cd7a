// chaos:slow-readers — clients that read a few bytes per second from a fast provider. The server's
// stream is pull-based, so it must generate only what the socket takes: its memory stays flat
// instead of buffering the provider's output for each slow client.
//
//   npm run chaos:slow-readers [-- --streams 20 --duration 120s --read-bps 64]   (own server: the provider is made fast)
import { connect, type Socket } from 'node:net'
import { parseCount } from '../load/args.ts'
import { summarize } from '../load/probe.ts'
import { kernelQueues, rssMiB } from '../load/proc.ts'
import { createReport, readFlags, signTokens, waitFor, withStack } from './scenario.ts'

const flags = readFlags('slow-readers', { streams: 20, duration: '120s' }, { 'read-bps': { type: 'string', default: '64' } })
if (flags.url) {
  console.error('chaos:slow-readers makes its own server\'s provider fast; it cannot take --url')
  process.exit(2)
}
const readBps = parseCount('read-bps', flags.extra['read-bps']!, 1)
const report = createReport('slow-readers', flags.runId)
const TOKENS_PER_SECOND = 1_000
const TICK_MS = 250

interface SlowReader { socket: Socket; bytes: number; head: string; traceId?: string }

/** A raw HTTP/1.1 client that takes `readBps` bytes per second off its socket, whatever arrives. */
function openSlowReader(baseUrl: string, token: string): SlowReader {
  const u = new URL(baseUrl)
  const body = JSON.stringify({ session_id: crypto.randomUUID(), content: 'write a very long answer', max_tokens: 1_000_000 })
  const socket = connect(Number(u.port), u.hostname)
  const r: SlowReader = { socket, bytes: 0, head: '' }
  socket.on('error', () => {})
  socket.write([
    'POST /functions/v1/chat HTTP/1.1', `host: ${u.host}`, `authorization: Bearer ${token}`,
    'content-type: application/json', `content-length: ${Buffer.byteLength(body)}`,
    `x-streamscope-run-id: ${flags.runId}`, '', body,
  ].join('\r\n'))
  // Paused: the socket reads from the kernel only up to its high-water mark, and we take a few bytes a tick.
  socket.pause()
  const per = Math.max(1, Math.round((readBps * TICK_MS) / 1000))
  const timer = setInterval(() => {
    const chunk = socket.read(per) as Buffer | null
    if (!chunk) return
    r.bytes += chunk.length
    if (!r.traceId && r.head.length < 4096) {
      r.head += chunk.toString('latin1')
      r.traceId = /\r\nx-trace-id: ([0-9a-f]{32})\r\n/i.exec(r.head)?.[1]
    }
  }, TICK_MS)
  socket.on('close', () => clearInterval(timer))
  return r
}

const code = await withStack(flags, {
  SIM_TOKENS_PER_SECOND: String(TOKENS_PER_SECOND), SIM_MIN_TOKENS: '1000000', SIM_MAX_TOKENS: '1000000',
  MAX_OUTPUT_TOKENS: '1000000', RESUME_GRACE_SECONDS: '1',
}, report, async (stack) => {
  if (!stack.pid) throw new Error('cannot see the server process to sample its memory')
  const tokens = await signTokens(flags.jwtSecret, flags.streams)
  const rss: { t: number; mib: number }[] = []
  const t0 = performance.now()
  const sampler = setInterval(() => rss.push({ t: performance.now() - t0, mib: rssMiB(stack.pid!) }), 1_000)
  rss.push({ t: 0, mib: rssMiB(stack.pid) })
  const readers = Array.from({ length: flags.streams }, (_, i) => openSlowReader(stack.baseUrl, tokens[i]))
  report.observe(`${readers.length} slow readers at ${readBps} B/s each; the provider makes ${TOKENS_PER_SECOND} tokens/s per stream`)
  await new Promise((r) => setTimeout(r, flags.durationMs))
  clearInterval(sampler)
  const read = readers.reduce((n, r) => n + r.bytes, 0)
  const kernel = kernelQueues(Number(new URL(stack.baseUrl).port))
  // What each reader's socket object holds beyond what was read (up to its high-water mark).
  const inClients = readers.reduce((n, r) => n + r.socket.readableLength, 0)
  const traceIds = readers.map((r) => r.traceId).filter((t): t is string => Boolean(t))
  for (const r of readers) r.socket.destroy()

  // Socket buffers fill first (the kernel's, outside the process); after that a pull-based server
  // generates only what the readers take. The second half of the run is the steady state.
  const half = flags.durationMs / 2
  const steady = rss.filter((s) => s.t >= half)
  const first = steady[0]?.mib ?? NaN
  const max = Math.max(...steady.map((s) => s.mib))
  const probe = stack.probe?.read(Date.now() - half) ?? []
  const heap = summarize(probe, 'heap_used_mib')
  // What buffering the provider's output in the process would add over the same half (~95 bytes per frame).
  const wouldBe = (flags.streams * TOKENS_PER_SECOND * 95 * (half / 1000)) / 2 ** 20
  report.observe(`server RSS (MiB) every second: ${rss.map((s) => s.mib.toFixed(0)).join(' ')}`)
  const all = stack.probe?.read() ?? []
  if (all.length) report.observe(`server heap used (MiB, probe) every 5 s: ${all.filter((_, i) => i % 5 === 0).map((p) => p.heap_used_mib.toFixed(0)).join(' ')}`)
  if (probe.length) report.observe(`server (probe) over the second half: heap used mean ${heap.mean.toFixed(0)} / max ${heap.max.toFixed(0)} MiB, CPU ${summarize(probe, 'cpu_percent').mean.toFixed(0)}%`)
  report.observe(`second half: RSS ${first.toFixed(1)} → max ${max.toFixed(1)} MiB; buffering the provider's output in the process would have added ~${wouldBe.toFixed(0)} MiB`)
  report.observe(`clients read ${(read / 1024).toFixed(1)} KiB in all (${(read / flags.streams).toFixed(0)} bytes each)`)
  report.expect('server memory stays flat under slow readers (second half of the run)', max - first < Math.max(20, first * 0.1), `grew ${(max - first).toFixed(1)} MiB`)

  // After the readers hang up: each stream is cut, and how much it generated shows the pull at work.
  const sql = stack.sql!
  const rows = await waitFor(async () => {
    const r = await sql<{ status: string; output_tokens: number | null; chars: number }[]>`
      select status, output_tokens, length(content)::int as chars from public.messages
      where role = 'assistant' and trace_id = any(${traceIds}::text[])`
    return r.length === traceIds.length ? r : undefined
  }, 20_000)
  if (!rows) {
    report.expect('every slow stream is stored as cut once its reader leaves', false, `not all ${traceIds.length} assistant messages stored after 20 s`)
  } else {
    const generated = rows.reduce((n, r) => n + (r.output_tokens ?? 0), 0) / rows.length
    const atPace = TOKENS_PER_SECOND * flags.durationMs / 1000
    const mib = (b: number) => (b / 2 ** 20).toFixed(1)
    const generatedBytes = rows.reduce((n, r) => n + (r.output_tokens ?? 0), 0) * 95
    report.observe(`each stream generated ${generated.toFixed(0)} tokens on average; at the provider's pace it would have been ${atPace}`)
    report.observe(`where the ~${mib(generatedBytes)} MiB of frames generated were at the end: read by clients ${mib(read)}, in the clients' socket objects ${mib(inClients)}, in kernel TCP queues ${mib(kernel.serverSendQueue)} (server send) + ${mib(kernel.clientReceiveQueue)} (client receive) over ${kernel.connections} connections; unaccounted (in the server process or estimate error) ${mib(generatedBytes - read - inClients - kernel.serverSendQueue - kernel.clientReceiveQueue)}`)
    report.expect('every slow stream is stored as cut once its reader leaves', rows.every((r) => r.status === 'cut'), rows.map((r) => r.status).join(',').slice(0, 80))
    report.expect('the server generated only what the sockets took (pull-based)', generated < atPace * 0.5, `${((generated / atPace) * 100).toFixed(1)}% of the provider's pace`)
  }
  return report.finish()
})

process.exit(code)
