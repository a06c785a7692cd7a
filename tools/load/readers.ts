// Dashboard readers: operators with a few tabs open, each polling the dashboard's JSON API while
// the chats run. What they measure lives in fixed-size histograms and counters, like the chats'.
import { toBaseUrl } from './engine.ts'
import { createHistogram } from './histogram.ts'
import { toQuantiles, type Quantiles } from './quantiles.ts'

export interface ReadersOptions {
  url: string
  readers: number
  /** `Authorization: Bearer` for the dashboard's API. */
  operatorToken: string
  /** Pause between two reads of one reader (default 0: one after another). */
  pauseMs?: number
}

export interface ReadersSummary {
  readers: number
  reads: number
  failed: number
  /** Reads by HTTP status, or by the network error's name. */
  by_status: Record<string, number>
  /** The first few failures as `path → status: body`, to say what went wrong. */
  failures: string[]
  latency_ms: Quantiles
}

/** What one reader reads in turn: the overview, the streams explorer, spend, health and a listed stream's trace. */
export const READ_PATHS = ['/api/overview', '/api/streams', '/api/spend', '/api/health', 'trace'] as const

const KEEP_FAILURES = 10

export function startDashboardReaders(o: ReadersOptions) {
  const base = toBaseUrl(o.url)
  const latency = createHistogram()
  const byStatus: Record<string, number> = {}
  const failures: string[] = []
  let reads = 0
  let failed = 0
  let stopped = false
  // One controller per read, aborted by stop(): a shared signal would gather a listener per fetch.
  const inFlight = new Set<AbortController>()

  // The trace read opens a stream the explorer listed (so it is stored), as an engineer would.
  let listedTraceId: string | null = null

  function pathAt(n: number): string {
    const p = READ_PATHS[n % READ_PATHS.length]
    if (p !== 'trace') return p
    return listedTraceId ? `/api/traces/${listedTraceId}` : '/api/overview'
  }

  function remember(path: string, status: string, body: string) {
    if (path !== '/api/streams' || status !== '200') return
    try {
      listedTraceId = (JSON.parse(body) as { streams?: { trace_id?: string }[] }).streams?.[0]?.trace_id ?? listedTraceId
    } catch { /* counted by status; a bad body is the server's to explain */ }
  }

  async function readOnce(path: string) {
    const started = performance.now()
    let status: string
    let body = ''
    const abort = new AbortController()
    inFlight.add(abort)
    try {
      const res = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${o.operatorToken}` }, signal: abort.signal })
      body = await res.text()
      status = String(res.status)
    } catch (err) {
      if (stopped) return
      status = (err as Error).name
      body = String((err as Error).message)
    } finally {
      inFlight.delete(abort)
    }
    reads++
    latency.record(performance.now() - started)
    byStatus[status] = (byStatus[status] ?? 0) + 1
    remember(path, status, body)
    if (status !== '200') {
      failed++
      if (failures.length < KEEP_FAILURES) failures.push(`${path} → ${status}: ${body.slice(0, 200)}`)
    }
  }

  async function reader(i: number) {
    for (let n = i; !stopped; n++) {
      await readOnce(pathAt(n))
      if (o.pauseMs) await new Promise((r) => setTimeout(r, o.pauseMs))
    }
  }

  const running = Promise.all(Array.from({ length: o.readers }, (_, i) => reader(i)))
  return {
    /** Stops reading (an open read is abandoned, not counted) and summarises. */
    async stop(): Promise<ReadersSummary> {
      stopped = true
      for (const abort of inFlight) abort.abort()
      await running
      return { readers: o.readers, reads, failed, by_status: byStatus, failures, latency_ms: toQuantiles(latency) }
    },
  }
}
