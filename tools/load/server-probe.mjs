// Preloaded into a server process (NODE_OPTIONS="--import <this file>") to see inside it without
// touching its code: every second one JSON line with its event-loop lag, CPU and memory goes to
// STREAMSCOPE_PROBE_FILE. Plain JavaScript: it loads before any TypeScript loader is registered.
// Only the process whose argv names STREAMSCOPE_PROBE_MATCH (default server/start.ts) is probed,
// so the children it spawns (a dashboard build) do not write into the same file.
// With STREAMSCOPE_PROBE_PROFILE=<file>, a SIGUSR2 starts a V8 CPU profile that is written there
// after STREAMSCOPE_PROBE_PROFILE_MS (default 30000) ms (open it in Chrome DevTools).
import { appendFileSync, writeFileSync } from 'node:fs'
import { Session } from 'node:inspector'
import { monitorEventLoopDelay } from 'node:perf_hooks'

const file = process.env.STREAMSCOPE_PROBE_FILE
const match = process.env.STREAMSCOPE_PROBE_MATCH ?? 'server/start.ts'
if (file && process.argv.some((a) => a.endsWith(match))) {
  const RESOLUTION_MS = 10
  const lag = monitorEventLoopDelay({ resolution: RESOLUTION_MS })
  lag.enable()
  const excess = (ns) => Math.max(0, ns / 1e6 - RESOLUTION_MS)
  let cpu = process.cpuUsage()
  let at = performance.now()
  const timer = setInterval(() => {
    const now = performance.now()
    const used = process.cpuUsage(cpu)
    const m = process.memoryUsage()
    const line = {
      t: Date.now(),
      pid: process.pid,
      cpu_percent: ((used.user + used.system) / 1000 / (now - at)) * 100,
      lag_p50_ms: excess(lag.percentile(50)),
      lag_p99_ms: excess(lag.percentile(99)),
      lag_max_ms: excess(lag.max),
      rss_mib: m.rss / 2 ** 20,
      heap_used_mib: m.heapUsed / 2 ** 20,
      heap_total_mib: m.heapTotal / 2 ** 20,
      external_mib: m.external / 2 ** 20,
      array_buffers_mib: m.arrayBuffers / 2 ** 20,
    }
    lag.reset()
    cpu = process.cpuUsage()
    at = now
    try { appendFileSync(file, `${JSON.stringify(line)}\n`) } catch { /* the reader went away */ }
  }, 1000)
  timer.unref()

  const profile = process.env.STREAMSCOPE_PROBE_PROFILE
  if (profile) {
    // Started by SIGUSR2 (when the load begins, not at boot), written after PROFILE_MS.
    process.on('SIGUSR2', () => {
      const session = new Session()
      session.connect()
      session.post('Profiler.enable', () => session.post('Profiler.start', () => {
        setTimeout(() => session.post('Profiler.stop', (err, result) => {
          if (!err) writeFileSync(profile, JSON.stringify(result.profile))
          session.disconnect()
        }), Number(process.env.STREAMSCOPE_PROBE_PROFILE_MS ?? 30_000)).unref()
      }))
    })
  }
}
