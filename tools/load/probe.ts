// Reading the server probe (server-probe.mjs): how a benchmark or scenario sees a server's own
// event-loop lag, CPU and heap, not just what /proc shows from outside.
import { existsSync, mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

export interface ProbeSample {
  t: number
  pid: number
  cpu_percent: number
  lag_p50_ms: number
  lag_p99_ms: number
  lag_max_ms: number
  rss_mib: number
  heap_used_mib: number
  heap_total_mib: number
  external_mib: number
  array_buffers_mib: number
}

export interface Probe {
  /** Environment for the server process: preloads the probe. */
  env: Record<string, string>
  /** Samples written so far, optionally only those from `sinceMs` (Date.now()) on. */
  read(sinceMs?: number): ProbeSample[]
}

const PROBE = fileURLToPath(new URL('./server-probe.mjs', import.meta.url))

export function createProbe(): Probe {
  const file = join(mkdtempSync(join(tmpdir(), 'streamscope-probe-')), 'probe.jsonl')
  return {
    env: {
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import ${PROBE}`.trim(),
      STREAMSCOPE_PROBE_FILE: file,
    },
    read(sinceMs = 0) {
      if (!existsSync(file)) return []
      return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((l) => JSON.parse(l) as ProbeSample).filter((s) => s.t >= sinceMs)
    },
  }
}

/** Mean, max and last of one field over samples. */
export function summarize(samples: ProbeSample[], field: keyof ProbeSample): { mean: number; max: number; last: number } {
  if (!samples.length) return { mean: NaN, max: NaN, last: NaN }
  const values = samples.map((s) => s[field])
  return { mean: values.reduce((a, b) => a + b, 0) / values.length, max: Math.max(...values), last: values.at(-1)! }
}
