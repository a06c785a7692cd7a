// The load runner: N clients, each chatting again as soon as its chat ends, until the duration is
// over. What it measures is counted in a Tally (tally.ts): fixed memory however long the run.
import { setMaxListeners } from 'node:events'
import type { ChatObserver } from './engine.ts'
import { promptFor } from './prompt.ts'
import { startDashboardReaders } from './readers.ts'
import { sampleProcess } from './proc.ts'
import { createSequenceTracker } from './sequence.ts'
import { createTally, startLagMonitor, toSummary, type Tally } from './tally.ts'
import type { ChatOutcome, LoadOptions, LoadSummary } from './load-types.ts'

export type { ChatOutcome, ChatRecord, LoadOptions, LoadSummary, Progress } from './load-types.ts'

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve()
    const timer = setTimeout(done, ms)
    function done() { clearTimeout(timer); signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done, { once: true })
  })
}

/** The run's clock: deltas between the end of the ramp and the end count as steady. */
interface RunClock { t0: number; rampEnd: number; endAt: number; abortAll: AbortSignal }

export async function runLoad(o: LoadOptions): Promise<LoadSummary> {
  const t = createTally()
  const lag = startLagMonitor()
  const cpu0 = process.cpuUsage()
  const server = o.serverPid ? sampleProcess(o.serverPid, 1000) : undefined
  const readers = o.dashboardReaders ? startDashboardReaders({
    url: o.url, readers: o.dashboardReaders, operatorToken: o.operatorToken ?? '',
  }) : undefined

  const t0 = performance.now()
  const stopStarting = new AbortController() // no new chats after this
  const abortAll = new AbortController() // open chats are cut
  // Every client listens on both: thousands of listeners are the design, not a leak.
  setMaxListeners(0, stopStarting.signal, abortAll.signal)
  const clock: RunClock = { t0, rampEnd: t0 + o.rampMs, endAt: t0 + o.durationMs, abortAll: abortAll.signal }

  async function client(i: number) {
    await sleep((i * o.rampMs) / o.streams, stopStarting.signal)
    for (let n = 0; !stopStarting.signal.aborted && performance.now() < clock.endAt; n++) {
      const failedEarly = await runChat(o, t, clock, i, n)
      // A server that refuses everything must not turn the tool into a busy loop.
      if (failedEarly) await sleep((o.errorPauseMs ?? 500) * (0.5 + Math.random()), stopStarting.signal)
    }
  }

  const progress = reportProgress(o, t, t0, () => lag.windowP99())
  const stopAt = setTimeout(() => {
    stopStarting.abort()
    setTimeout(() => abortAll.abort(), o.drainMs ?? 0)
  }, o.durationMs)

  await Promise.all(Array.from({ length: o.streams }, (_, i) => client(i)))
  clearTimeout(stopAt)
  clearInterval(progress)
  const dashboard = await readers?.stop()
  const lagFigures = lag.stop()
  const wallS = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  return toSummary(o, t, { t0, wallS, cpu, lag: lagFigures, server, serverSamples: server?.stop(), dashboard })
}

function reportProgress(o: LoadOptions, t: Tally, t0: number, lagP99: () => number) {
  let lastFrames = 0
  let lastTick = t0
  return setInterval(() => {
    const now = performance.now()
    o.onProgress?.({
      elapsedS: (now - t0) / 1000,
      durationS: o.durationMs / 1000,
      open: t.open,
      done: t.chats.done,
      errors: t.chats.failed,
      framesPerS: ((t.frames - lastFrames) * 1000) / (now - lastTick),
      lagP99Ms: lagP99(),
    })
    lastFrames = t.frames
    lastTick = now
  }, o.progressIntervalMs ?? 1000)
}

/** One chat of one client, counted into `t`; true when it failed before its first delta. */
async function runChat(o: LoadOptions, t: Tally, clock: RunClock, client: number, n: number): Promise<boolean> {
  const seq = createSequenceTracker()
  const sessionId = crypto.randomUUID()
  const started = performance.now()
  const c = { firstAt: 0, lastAt: 0, text: '', traceId: null as string | null, outcome: undefined as ChatOutcome | undefined,
    code: undefined as string | undefined, retries: 0, resumes: 0 }
  t.chats.started++
  t.open++
  const steady = (now: number) => now >= clock.rampEnd && now <= clock.endAt
  const observer: ChatObserver = {
    open(id) { c.traceId = id ?? c.traceId },
    delta(s, text) {
      const now = performance.now()
      if (seq.accept(s) === 'repeat') { t.repeated++; return }
      t.frames++
      if (o.keepChats) c.text += text
      if (c.firstAt === 0) {
        c.firstAt = now
        t.ttfb.record(now - started)
      } else if (steady(now)) {
        t.gaps.record(now - c.lastAt)
      }
      if (steady(now)) t.steadyFrames++
      c.lastAt = now
    },
    done(info) {
      c.outcome = 'done'
      c.traceId = info.trace_id ?? c.traceId
      if (info.output_tokens !== null) t.tokens += info.output_tokens
      t.duration.record(performance.now() - started)
    },
    error(code, status) {
      if (code === 'aborted' && clock.abortAll.aborted) { c.outcome = 'cut_at_end'; return }
      c.outcome = 'error'
      c.code = status && !code.startsWith('http_') ? `${code} (${status})` : code
    },
    retry() { c.retries++ },
    resume() { c.resumes++ },
    restart() { t.restarts++; seq.restart(); c.text = '' },
  }
  await o.engine({
    url: o.url,
    token: o.token(client),
    body: { session_id: sessionId, content: promptFor(o.prompt, client, n), ...(o.maxTokens ? { max_tokens: o.maxTokens } : {}) },
    headers: { 'x-streamscope-run-id': o.runId },
    signal: clock.abortAll,
  }, observer)
  t.open--
  t.lost += seq.lost
  t.retries += c.retries
  t.resumes += c.resumes
  const outcome: ChatOutcome = c.outcome ?? (clock.abortAll.aborted ? 'cut_at_end' : 'error')
  if (outcome === 'done') t.chats.done++
  else if (outcome === 'cut_at_end') t.chats.cut_at_end++
  else {
    t.chats.failed++
    const key = c.code ?? 'unknown'
    t.errors[key] = (t.errors[key] ?? 0) + 1
    if (c.firstAt) t.errorsMid[key] = (t.errorsMid[key] ?? 0) + 1
  }
  if (o.keepChats) {
    t.records.push({
      client, session_id: sessionId, trace_id: c.traceId, outcome, code: c.code, text: c.text, frames: seq.frames,
      lost: seq.lost, repeated: seq.repeated, retries: c.retries, resumes: c.resumes, started_streaming: c.firstAt > 0,
      started_at: started - clock.t0, first_delta_at: c.firstAt ? c.firstAt - clock.t0 : null, ended_at: performance.now() - clock.t0,
    })
  }
  return outcome === 'error' && c.firstAt === 0
}
