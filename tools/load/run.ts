// The load runner: N clients, each chatting again as soon as its chat ends, until the duration is
// over. Everything it measures lives in fixed-size histograms and counters, so a long run with
// thousands of streams costs the same memory as a short one.
import { setMaxListeners } from 'node:events'
import { monitorEventLoopDelay } from 'node:perf_hooks'
import type { ChatObserver } from './engine.ts'
import { createHistogram } from './histogram.ts'
import { promptFor } from './prompt.ts'
import { toQuantiles } from './quantiles.ts'
import { startDashboardReaders } from './readers.ts'
import { sampleProcess } from './proc.ts'
import type { ChatOutcome, ChatRecord, LoadOptions, LoadSummary, Progress } from './load-types.ts'

export type { ChatOutcome, ChatRecord, LoadOptions, LoadSummary, Progress } from './load-types.ts'
import { createSequenceTracker } from './sequence.ts'

const LAG_RESOLUTION_MS = 10

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted || ms <= 0) return resolve()
    const timer = setTimeout(done, ms)
    function done() { clearTimeout(timer); signal.removeEventListener('abort', done); resolve() }
    signal.addEventListener('abort', done, { once: true })
  })
}

export async function runLoad(o: LoadOptions): Promise<LoadSummary> {
  const ttfb = createHistogram()
  const duration = createHistogram()
  const gaps = createHistogram()
  const errors: Record<string, number> = {}
  const errorsMid: Record<string, number> = {}
  const chats = { started: 0, done: 0, failed: 0, cut_at_end: 0 }
  const records: ChatRecord[] = []
  let open = 0
  let frames = 0
  let steadyFrames = 0
  let tokens = 0
  let lost = 0
  let repeated = 0
  let retries = 0
  let resumes = 0
  let restarts = 0

  // The histogram holds the time between its timer's ticks, resolution included: lag is the excess.
  const lag = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS })
  const lagWindow = monitorEventLoopDelay({ resolution: LAG_RESOLUTION_MS })
  const lagMs = (ns: number) => Math.max(0, ns / 1e6 - LAG_RESOLUTION_MS)
  lag.enable()
  lagWindow.enable()
  const cpu0 = process.cpuUsage()
  const server = o.serverPid ? sampleProcess(o.serverPid, 1000) : undefined
  const readers = o.dashboardReaders ? startDashboardReaders({
    url: o.url, readers: o.dashboardReaders, operatorToken: o.operatorToken ?? '',
  }) : undefined

  const t0 = performance.now()
  const rampEnd = t0 + o.rampMs
  const endAt = t0 + o.durationMs
  const stopStarting = new AbortController() // no new chats after this
  const abortAll = new AbortController() // open chats are cut
  // Every client listens on both: thousands of listeners are the design, not a leak.
  setMaxListeners(0, stopStarting.signal, abortAll.signal)

  async function chat(client: number, n: number): Promise<boolean> {
    const seq = createSequenceTracker()
    const sessionId = crypto.randomUUID()
    const started = performance.now()
    let firstAt = 0
    let lastAt = 0
    let text = ''
    let traceId: string | null = null
    let outcome: ChatOutcome | undefined
    let code: string | undefined
    let chatRetries = 0
    let chatResumes = 0
    chats.started++
    open++
    const observer: ChatObserver = {
      open(id) { traceId = id ?? traceId },
      delta(s, t) {
        const now = performance.now()
        const verdict = seq.accept(s)
        if (verdict === 'repeat') { repeated++; return }
        frames++
        if (o.keepChats) text += t
        if (firstAt === 0) {
          firstAt = now
          ttfb.record(now - started)
        } else if (now >= rampEnd && now <= endAt) {
          gaps.record(now - lastAt)
        }
        if (now >= rampEnd && now <= endAt) steadyFrames++
        lastAt = now
      },
      done(info) {
        outcome = 'done'
        traceId = info.trace_id ?? traceId
        if (info.output_tokens !== null) tokens += info.output_tokens
        duration.record(performance.now() - started)
      },
      error(c, status) {
        if (c === 'aborted' && abortAll.signal.aborted) { outcome = 'cut_at_end'; return }
        outcome = 'error'
        code = status && !c.startsWith('http_') ? `${c} (${status})` : c
      },
      retry() { chatRetries++ },
      resume() { chatResumes++ },
      restart() { restarts++; seq.restart(); text = '' },
    }
    await o.engine({
      url: o.url,
      token: o.token(client),
      body: { session_id: sessionId, content: promptFor(o.prompt, client, n), ...(o.maxTokens ? { max_tokens: o.maxTokens } : {}) },
      headers: { 'x-streamscope-run-id': o.runId },
      signal: abortAll.signal,
    }, observer)
    open--
    lost += seq.lost
    retries += chatRetries
    resumes += chatResumes
    outcome ??= abortAll.signal.aborted ? 'cut_at_end' : 'error'
    if (outcome === 'done') chats.done++
    else if (outcome === 'cut_at_end') chats.cut_at_end++
    else {
      chats.failed++
      const key = code ?? 'unknown'
      errors[key] = (errors[key] ?? 0) + 1
      if (firstAt) errorsMid[key] = (errorsMid[key] ?? 0) + 1
    }
    if (o.keepChats) {
      records.push({
        client, session_id: sessionId, trace_id: traceId, outcome, code, text, frames: seq.frames,
        lost: seq.lost, repeated: seq.repeated, retries: chatRetries, resumes: chatResumes, started_streaming: firstAt > 0,
        started_at: started - t0, first_delta_at: firstAt ? firstAt - t0 : null, ended_at: performance.now() - t0,
      })
    }
    return outcome === 'error' && firstAt === 0
  }

  async function client(i: number) {
    await sleep((i * o.rampMs) / o.streams, stopStarting.signal)
    for (let n = 0; !stopStarting.signal.aborted && performance.now() < endAt; n++) {
      const failedEarly = await chat(i, n)
      // A server that refuses everything must not turn the tool into a busy loop.
      if (failedEarly) await sleep((o.errorPauseMs ?? 500) * (0.5 + Math.random()), stopStarting.signal)
    }
  }

  let lastFrames = 0
  let lastTick = t0
  const progress = setInterval(() => {
    const now = performance.now()
    o.onProgress?.({
      elapsedS: (now - t0) / 1000,
      durationS: o.durationMs / 1000,
      open,
      done: chats.done,
      errors: chats.failed,
      framesPerS: ((frames - lastFrames) * 1000) / (now - lastTick),
      lagP99Ms: lagMs(lagWindow.percentile(99)),
    })
    lagWindow.reset()
    lastFrames = frames
    lastTick = now
  }, o.progressIntervalMs ?? 1000)

  const stopAt = setTimeout(() => {
    stopStarting.abort()
    setTimeout(() => abortAll.abort(), o.drainMs ?? 0)
  }, o.durationMs)

  await Promise.all(Array.from({ length: o.streams }, (_, i) => client(i)))
  clearTimeout(stopAt)
  clearInterval(progress)
  const dashboard = await readers?.stop()
  lag.disable()
  lagWindow.disable()
  const wallS = (performance.now() - t0) / 1000
  const cpu = process.cpuUsage(cpu0)
  const serverSamples = server?.stop()
  const steadyS = Math.max(0.001, (o.durationMs - o.rampMs) / 1000)

  return {
    run_id: o.runId,
    clock_start: t0,
    url: o.url,
    streams: o.streams,
    duration_s: o.durationMs / 1000,
    ramp_s: o.rampMs / 1000,
    chats,
    ttfb_ms: toQuantiles(ttfb),
    duration_ms: toQuantiles(duration),
    gap_ms: toQuantiles(gaps),
    frames,
    tokens,
    frames_per_s: steadyFrames / steadyS,
    errors,
    errors_mid_stream: errorsMid,
    lost_frames: lost,
    repeated_frames: repeated,
    retries,
    resumes,
    restarts,
    tool: {
      cpu_percent: ((cpu.user + cpu.system) / 1e6 / wallS) * 100,
      event_loop_lag_ms: { p50: lagMs(lag.percentile(50)), p99: lagMs(lag.percentile(99)), max: lagMs(lag.max) },
      rss_mib: process.memoryUsage.rss() / 2 ** 20,
    },
    ...(server && serverSamples ? {
      server: {
        pid: o.serverPid!,
        cpu_percent: server.cpuPercent(),
        rss_mib: {
          first: serverSamples[0]?.rssMiB ?? NaN,
          last: serverSamples.at(-1)?.rssMiB ?? NaN,
          max: Math.max(...serverSamples.map((s) => s.rssMiB)),
        },
        samples: serverSamples,
      },
    } : {}),
    ...(dashboard ? { dashboard } : {}),
    ...(o.keepChats ? { chat_records: records } : {}),
  }
}
