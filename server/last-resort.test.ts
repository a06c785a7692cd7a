// The Node server's last resort, in a process of its own (a rejection that escapes ends a
// process; vitest's own would hide that): logged with the request's trace, counted, survived.
import { expect, it } from 'vitest'
import { PROCESS_FAULT_MESSAGE } from '../shared/telemetry/faults.ts'
import { runChild } from '../tests/support/child.ts'

const ROOT = new URL('..', import.meta.url).pathname

const CHILD = `
import { createLogger } from './shared/telemetry/logger.ts'
import { installLastResort, recordingTraceId, requestScope } from './server/last-resort.ts'
const lastResort = installLastResort(createLogger({ write: (line) => console.log(line) }))
// A handler whose response names its trace, and which leaves a rejection behind it.
const handler = recordingTraceId(async () => {
  setTimeout(() => { Promise.reject(Object.assign(new Error('portal "" does not exist'), { code: '34000' })) }, 0)
  return new Response('ok', { headers: { 'x-trace-id': 'ab'.repeat(16) } })
})
await requestScope.run({ method: 'POST', path: '/functions/v1/chat', traceId: null }, () => handler(new Request('http://x/')))
await new Promise((r) => setTimeout(r, 20))
console.log(JSON.stringify({ alive: true, faults: lastResort.count() }))
`

it('logs an unhandled rejection with its request and trace, and the process goes on', async () => {
  const r = await runChild(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', CHILD], { cwd: ROOT })
  expect(r.stderr).toBe('')
  expect(r.status).toBe(0)
  const lines = r.stdout.trim().split('\n').map((l) => JSON.parse(l))
  expect(lines).toEqual([
    expect.objectContaining({
      level: 'error', message: PROCESS_FAULT_MESSAGE, trace_id: 'ab'.repeat(16), span_id: null,
      error: 'portal "" does not exist', code: '34000', method: 'POST', path: '/functions/v1/chat', faults: 1,
    }),
    { alive: true, faults: 1 },
  ])
})
