// `npm run edge` itself (tools/edge/cli.ts) with a short wall clock: isolates are recycled as the
// platform recycles them — an idle one dropped early with beforeunload early_drop, a busy one given
// beforeunload wall_clock and then ended, cutting what it was streaming — and SIGTERM stops
// everything the stack started. A probe preloaded into each isolate prints the events it receives.
import { spawn, type ChildProcess } from 'node:child_process'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { signUserToken } from '../../shared/auth/jwt.ts'
import { pidListeningOn } from '../../tools/load/proc.ts'
import type { IsolateExit, IsolateInfo } from '../../tools/edge/isolates.ts'
import { until } from '../support/wait.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const SECRET = 'edge-secret-that-is-at-least-32-characters'
let cli: ChildProcess
let out = ''
let gateway = ''
const pidsSeen = new Set<number>()

beforeAll(async () => {
  cli = spawn(process.execPath, [
    '--import', 'tsx', 'tools/edge/cli.ts', '--port', '0', '--isolates', '1', '--wall-clock', '8s', '--grace', '2s',
    '--preload', 'tests/edge/beforeunload-probe.ts',
  ], {
    cwd: ROOT,
    env: {
      ...process.env, JWT_SECRET: SECRET, RATE_LIMIT_RPM: '0', RATE_LIMIT_TPM: '0', LOG_CONSOLE_LEVEL: 'error',
      SIM_TTFB_MS: '5', SIM_TOKENS_PER_SECOND: '20', SIM_MIN_TOKENS: '300', SIM_MAX_TOKENS: '300',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  cli.stdout!.on('data', (d) => { out += d })
  cli.stderr!.on('data', (d) => { out += d })
  gateway = await until(() => {
    if (cli.exitCode !== null) throw new Error(`npm run edge exited with ${cli.exitCode}:\n${out}`)
    return /^gateway (http:\/\/127\.0\.0\.1:\d+)$/m.exec(out)?.[1]
  }, 'the gateway line', 240_000)
}, 250_000)

afterAll(async () => {
  if (cli && cli.exitCode === null && cli.signalCode === null) {
    cli.kill('SIGTERM')
    await new Promise((resolve) => cli.once('exit', resolve))
  }
}, 60_000)

const stackGet = async <T>(path: string): Promise<T> => (await fetch(`${gateway}${path}`)).json() as Promise<T>
const exits = () => stackGet<IsolateExit[]>('/_stack/exits')
const isolates = async () => {
  const list = await stackGet<IsolateInfo[]>('/_stack/isolates')
  list.forEach((i) => pidsSeen.add(i.pid))
  return list
}
/** What the isolate printed, through the stack's `[id] line` output. */
const linesOf = (id: string) => out.split('\n').filter((l) => l.startsWith(`[${id}] `)).map((l) => l.slice(id.length + 3))

it('prints the gateway and the direct database URL', () => {
  expect(out).toMatch(/^gateway http:\/\/127\.0\.0\.1:\d+$/m)
  expect(out).toMatch(/^database postgresql:\/\/\S+$/m)
})

it('drops an idle isolate early at half its wall clock (beforeunload early_drop, then unload) and replaces it', async () => {
  const first = await isolates()
  const dropped = await until(async () => (await exits()).find((e) => e.reason === 'early_drop'), 'an early drop', 60_000)
  expect(dropped.code).toBe(0)
  const lines = await until(() => linesOf(dropped.id).includes('probe: unload') && linesOf(dropped.id), `${dropped.id}'s unload`)
  expect(lines.filter((l) => l.startsWith('probe:'))).toEqual(['probe: beforeunload early_drop', 'probe: unload'])
  await until(async () => (await isolates()).some((i) => i.function === dropped.function && !first.some((f) => f.id === i.id)), `a new ${dropped.function} isolate`, 60_000)
}, 120_000)

it('ends a busy isolate at its wall clock: beforeunload wall_clock first, then the stream is cut and it exits cleanly', async () => {
  const res = await fetch(`${gateway}/functions/v1/chat`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await signUserToken(SECRET, '9c5d4e3f-2a1b-4c0d-9e8f-7a6b5c4d3e2f')}`, 'content-type': 'application/json' },
    body: JSON.stringify({ session_id: crypto.randomUUID(), content: 'a long answer' }), // 300 tokens at 20 a second
  })
  expect(res.status).toBe(200)
  const id = res.headers.get('x-isolate')!
  let text = ''
  try {
    for await (const chunk of res.body!) text += new TextDecoder().decode(chunk)
  } catch { /* the connection was cut */ }
  expect(text).toContain('event: chat.delta')
  expect(text).not.toContain('chat.done')
  const ended = await until(async () => (await exits()).find((e) => e.id === id), `${id}'s exit`, 60_000)
  expect([ended.reason, ended.code]).toEqual(['wall_clock', 0])
  const lines = await until(() => linesOf(id).includes('probe: unload') && linesOf(id), `${id}'s unload`)
  expect(lines.filter((l) => l.startsWith('probe:'))).toEqual(['probe: beforeunload wall_clock', 'probe: unload'])
}, 120_000)

it('stops everything it started on SIGTERM: isolates, PgBouncer, PostgreSQL', async () => {
  for (const i of await isolates()) pidsSeen.add(i.pid)
  for (const e of await exits()) pidsSeen.add(e.pid)
  const gatewayPort = Number(new URL(gateway).port)
  const poolerPort = Number(/through postgres:\/\/[^\s]*:(\d+)\/postgres \(PgBouncer/.exec(out)![1])
  const pgPort = Number(/^database postgresql:\/\/[^\s]*:(\d+)\//m.exec(out)![1])
  expect(pidListeningOn(poolerPort)).toBeDefined()
  cli.kill('SIGTERM')
  const code = await new Promise((resolve) => cli.once('exit', resolve))
  expect(code).toBe(0)
  for (const port of [gatewayPort, poolerPort, pgPort]) expect(pidListeningOn(port)).toBeUndefined()
  const alive = [...pidsSeen].filter((pid) => { try { process.kill(pid, 0); return true } catch { return false } })
  expect(alive).toEqual([])
}, 60_000)
