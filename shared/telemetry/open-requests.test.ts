// Requests on record while they run: open rows, their supersession, the heartbeat's deadline, the
// lost requests stored as spans by a live pipeline, and unload's cut — on a real PostgreSQL.
import { SpanKind } from '@opentelemetry/api'
import { afterAll, beforeAll, expect, it } from 'vitest'
import { freshDatabase, type TestDatabase } from '../../tests/support/db.ts'
import { until } from '../../tests/support/wait.ts'
import { ATTR } from './attributes.ts'
import { createTelemetry, type Telemetry } from './telemetry.ts'

let db: TestDatabase
beforeAll(async () => { db = await freshDatabase() })
afterAll(async () => { await db.drop() })

const made: Telemetry[] = []
afterAll(async () => { for (const t of made) await t.shutdown() })

function telemetry(instanceId: string = crypto.randomUUID(), lostAfterMs = 60_000) {
  const t = createTelemetry({ serviceName: 'test', sql: db.sql, writeLog: () => {}, instanceId, lostAfterMs, pipeline: { flushIntervalMs: 60_000 } })
  made.push(t)
  return t
}

const request = (t: Telemetry) => t.tracer.startSpan('POST /functions/v1/chat', {
  kind: SpanKind.SERVER, attributes: { [ATTR.function]: 'chat', [ATTR.httpMethod]: 'POST' },
})

const openRows = (traceId: string) => db.sql`select * from telemetry.open_requests where trace_id = ${traceId}`
const spanRows = (traceId: string) => db.sql`select name, end_reason, error_type, status_code, user_id from telemetry.spans where trace_id = ${traceId}`

it('puts a request still open at a batch on record, as it is then, and its span row supersedes it', async () => {
  const t = telemetry('instance-a')
  const span = request(t)
  span.setAttribute(ATTR.userId, 'user-1') // set after the start, as the gate does
  const { traceId } = span.spanContext()
  await t.flush()
  const [row] = await openRows(traceId)
  expect(row).toMatchObject({ span_id: span.spanContext().spanId, function: 'chat', user_id: 'user-1', instance_id: 'instance-a', name: 'POST /functions/v1/chat' })
  const [instance] = await db.sql`select expires_at > now() as alive from telemetry.instances where instance_id = 'instance-a'`
  expect(instance!.alive).toBe(true)
  expect(await db.sql`select * from telemetry.lost_requests where trace_id = ${traceId}`).toEqual([])

  span.end()
  await t.flush()
  expect(await openRows(traceId)).toEqual([])
  expect((await spanRows(traceId)).map((r) => r.name)).toEqual(['POST /functions/v1/chat'])
})

it('writes no open row for a request that ended before the batch, nor for a span that is not a request', async () => {
  const t = telemetry('instance-b')
  const short = request(t)
  const child = t.tracer.startSpan('select messages')
  short.end()
  await t.flush()
  expect(await openRows(short.spanContext().traceId)).toEqual([])
  expect(await openRows(child.spanContext().traceId)).toEqual([])
  expect(await db.sql`select 1 from telemetry.instances where instance_id = 'instance-b'`).toEqual([])
  child.end()
})

it('shows an open request as lost once its instance is past its deadline, and a live pipeline stores it as a lost span once', async () => {
  const traceId = 'e'.repeat(32)
  // One instant for both rows, so the request's span from start to last heartbeat is exactly 10 s.
  const [{ at }] = await db.sql<{ at: string }[]>`select now()::text as at`
  await db.sql`insert into telemetry.instances (instance_id, seen_at, expires_at) values ('dead', ${at}::timestamptz - interval '20 s', now() + interval '1 hour')`
  await db.sql`insert into telemetry.open_requests (trace_id, span_id, name, start_time, function, user_id, instance_id)
    values (${traceId}, ${'f'.repeat(16)}, 'POST /functions/v1/chat', ${at}::timestamptz - interval '30 s', 'chat', 'user-2', 'dead')`
  // Not yet past its deadline: still running, as far as anyone knows.
  expect(await db.sql`select 1 from telemetry.spans_and_lost where trace_id = ${traceId}`).toEqual([])
  await db.sql`update telemetry.instances set expires_at = now() - interval '1 ms' where instance_id = 'dead'`
  const [lost] = await db.sql`select end_reason, error_type, status_code, duration_ms, attributes from telemetry.spans_and_lost where trace_id = ${traceId}`
  expect(lost).toMatchObject({ end_reason: 'lost', error_type: 'isolate_lost', status_code: 'error', attributes: { 'streamscope.instance.id': 'dead' } })
  expect(Number(lost!.duration_ms)).toBe(10_000) // ended, as far as anyone knows, at its last heartbeat

  // Two live pipelines with requests on record both find it: it is stored once, counted once.
  const [one, two] = [telemetry('live-1', 300), telemetry('live-2', 300)]
  const spans = [request(one), request(two)]
  await Promise.all([one.flush(), two.flush()])
  // Their heartbeats (every 100 ms) find it; a flush writes what they queued.
  await until(async () => {
    await Promise.all([one.flush(), two.flush()])
    return (await openRows(traceId)).length === 0
  }, 'the lost request stored as a span')
  await Promise.all([one.flush(), two.flush()])
  expect(await spanRows(traceId)).toEqual([{ name: 'POST /functions/v1/chat', end_reason: 'lost', error_type: 'isolate_lost', status_code: 'error', user_id: 'user-2' }])
  expect(await db.sql`select trace_id from telemetry.spans_and_lost where trace_id = ${traceId}`).toHaveLength(1)
  const [counted] = await db.sql`select sum(requests)::int as n, sum(errors)::int as errors from telemetry.rollup_minute where error_type = 'isolate_lost' and user_id = 'user-2'`
  expect(counted).toEqual({ n: 1, errors: 1 })
  for (const s of spans) s.end()
})

it('unload ends the requests still open as cut by shutdown and writes them', async () => {
  const t = telemetry('instance-c')
  const span = request(t)
  const { traceId } = span.spanContext()
  await t.flush()
  expect(await openRows(traceId)).toHaveLength(1)
  await t.unload({ reason: 'wall_clock' })
  expect(await openRows(traceId)).toEqual([])
  const [row] = await db.sql`select end_reason, error_type, status_code, status_message, attributes->>'streamscope.shutdown.reason' as reason from telemetry.spans where trace_id = ${traceId}`
  expect(row).toEqual({ end_reason: 'shutdown', error_type: 'shutdown', status_code: 'error', status_message: 'cut by shutdown (wall_clock)', reason: 'wall_clock' })
  span.end() // the stream's own end, later: nothing more is written
  await t.flush()
  expect(await spanRows(traceId)).toHaveLength(1)
  await t.unload('termination') // edge-runtime's detail is the reason itself
})
