// What every chaos scenario shares: its flags, a private stack (or --url), signed tokens, and a
// report of what was observed with one line per expectation. A scenario exits 1 when an
// expectation failed, so `npm run chaos:<name>` can gate a release by hand.
import { parseArgs, type ParseArgsConfig } from 'node:util'
import type { Sql } from 'postgres'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { DEV_JWT_SECRET } from '../../server/dev-defaults.ts'
import { newRunId, parseCount, parseDuration } from '../load/args.ts'
import { startStack, type Stack } from './stack.ts'

export interface ScenarioFlags {
  url?: string
  databaseUrl?: string
  streams: number
  durationMs: number
  seed: number
  runId: string
  jwtSecret: string
  /** The scenario's own flags, as strings. */
  extra: Record<string, string | undefined>
}

/** Common flags; `defaults` are the scenario's own (small: scenarios are meant to run anywhere). */
export function readFlags(name: string, defaults: { streams: number; duration: string }, extra: NonNullable<ParseArgsConfig['options']> = {}): ScenarioFlags {
  const { values } = parseArgs({
    options: {
      ...extra,
      url: { type: 'string' },
      'database-url': { type: 'string' },
      streams: { type: 'string', default: String(defaults.streams) },
      duration: { type: 'string', default: defaults.duration },
      seed: { type: 'string', default: '1' },
      'run-id': { type: 'string' },
      'jwt-secret': { type: 'string' },
    },
  })
  return {
    url: values.url,
    databaseUrl: values['database-url'],
    streams: parseCount('streams', values.streams, 1),
    durationMs: parseDuration(values.duration),
    seed: parseCount('seed', values.seed),
    runId: values['run-id'] ?? newRunId(`chaos-${name}`),
    jwtSecret: values['jwt-secret'] ?? process.env.JWT_SECRET ?? DEV_JWT_SECRET,
    extra: Object.fromEntries(Object.keys(extra).map((k) => [k, (values as Record<string, unknown>)[k] as string | undefined])),
  }
}

export function signTokens(secret: string, n: number, ttlS = 3600): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, () => signUserToken(secret, crypto.randomUUID(), ttlS)))
}

export interface Report {
  /** A fact seen during the run (printed as it happens). */
  observe(line: string): void
  /** An expectation: printed PASS/FAIL with what was seen. */
  expect(what: string, ok: boolean, seen: string): void
  /** Prints the verdict and returns the exit code. */
  finish(): number
}

export function createReport(name: string, runId: string): Report {
  const t0 = performance.now()
  const failed: string[] = []
  let checks = 0
  const stamp = () => `${((performance.now() - t0) / 1000).toFixed(1).padStart(6)}s`
  console.log(`chaos:${name}  run id ${runId}`)
  return {
    observe(line) { console.log(`${stamp()}  ${line}`) },
    expect(what, ok, seen) {
      checks++
      if (!ok) failed.push(what)
      console.log(`${ok ? 'PASS' : 'FAIL'}  ${what} — ${seen}`)
    },
    finish() {
      console.log(failed.length ? `\nchaos:${name}: ${failed.length} of ${checks} expectations failed` : `\nchaos:${name}: all ${checks} expectations held`)
      return failed.length ? 1 : 0
    },
  }
}

/** Starts the scenario's stack and makes sure it is stopped however the scenario ends. */
export async function withStack<T>(flags: ScenarioFlags, env: Record<string, string>, report: Report, run: (stack: Stack) => Promise<T>): Promise<T> {
  const stack = await startStack({ url: flags.url, databaseUrl: flags.databaseUrl, env })
  report.observe(`server ${stack.baseUrl}${stack.pid ? ` (pid ${stack.pid})` : ''}${stack.cluster ? ' on a private PostgreSQL cluster' : ''}`)
  const stop = () => { void stack.stop().finally(() => process.exit(130)) }
  process.once('SIGINT', stop)
  try {
    return await run(stack)
  } finally {
    process.off('SIGINT', stop)
    await stack.stop()
  }
}

/** Polls until `check` returns a value (not undefined) or the time is up; returns the last value seen. */
export async function waitFor<T>(check: () => Promise<T | undefined>, timeoutMs: number, intervalMs = 500): Promise<T | undefined> {
  const until = performance.now() + timeoutMs
  for (;;) {
    const v = await check().catch(() => undefined)
    if (v !== undefined || performance.now() >= until) return v
    await new Promise((r) => setTimeout(r, intervalMs))
  }
}

export interface StoredAnswer { trace_id: string; content: string; status: string; output_tokens: number | null }

/** The assistant messages stored for these traces. */
export async function storedAnswers(sql: Sql, traceIds: string[]): Promise<Map<string, StoredAnswer>> {
  const rows = await sql<StoredAnswer[]>`
    select trace_id, content, status, output_tokens from public.messages
    where role = 'assistant' and trace_id = any(${traceIds}::text[])`
  return new Map(rows.map((r) => [r.trace_id, r]))
}

/** Request (root) spans stored for a run id. */
export async function countRootSpans(sql: Sql, runId: string): Promise<number> {
  const [{ n }] = await sql<{ n: number }[]>`
    select count(*)::int as n from telemetry.spans where run_id = ${runId} and parent_span_id is null`
  return n
}

export const count = <T>(items: T[], pred: (t: T) => boolean) => items.reduce((n, t) => n + (pred(t) ? 1 : 0), 0)

export function tally(values: string[]): string {
  const m = new Map<string, number>()
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1)
  return m.size ? [...m].sort((a, b) => b[1] - a[1]).map(([k, v]) => `${k} ${v}`).join(', ') : 'none'
}
