// The answer has streamed; the database refuses the write for a moment (a trigger raising the
// SQLSTATE a server shutdown sends, on the real Postgres). The stream waits, stores it once and
// only then says chat.done; a permanent refusal still ends with an error frame.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createChatFixture, framesOf } from '../support/chat-fixture.ts'
import { freshDatabase, type TestDatabase } from '../support/db.ts'

let db: TestDatabase
beforeAll(async () => {
  db = await freshDatabase()
  // A sequence counts the attempts: nextval survives the rollback of the refused INSERT.
  await db.sql.unsafe(`
    create table public.refusals (errcode text not null, upto bigint not null);
    create sequence public.attempts;
    create function public.refuse_answers() returns trigger language plpgsql as $$
    declare r public.refusals;
    begin
      select * into r from public.refusals;
      if nextval('public.attempts') <= r.upto then raise exception 'refused by the test' using errcode = r.errcode; end if;
      return new;
    end $$;
    create trigger refuse_answers before insert on public.messages
      for each row when (new.role = 'assistant') execute function public.refuse_answers();`)
})
afterAll(async () => { await db.drop() })

const USER = '21111111-2222-4333-8444-555555555555'

async function chatWhileRefusing(errcode: string, times: number) {
  await db.sql`delete from public.refusals`
  await db.sql`select setval('public.attempts', 1000)`
  await db.sql`insert into public.refusals values (${errcode}, ${1000 + times})`
  const f = createChatFixture(db.sql)
  const res = await f.request({ session_id: crypto.randomUUID(), content: 'store me eventually' }, { token: await f.token(USER) })
  const frames = framesOf(await res.text())
  const traceId = res.headers.get('x-trace-id')!
  const rows = await db.sql<{ id: string; status: string; content: string }[]>`
    select id, status, content from public.messages where trace_id = ${traceId} and role = 'assistant'`
  await f.telemetry.flush()
  const inserts = f.memory.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId && s.name === 'insert messages')
  return { frames, rows, inserts, logs: f.logs }
}

describe('storing the answer', () => {
  it('retries through a transient refusal and says chat.done with the one stored message', async () => {
    const { frames, rows, inserts, logs } = await chatWhileRefusing('57P01', 3) // admin_shutdown
    const done = frames.at(-1)!
    expect(done.event).toBe('chat.done')
    expect(rows).toHaveLength(1)
    expect(rows[0]).toMatchObject({ id: done.data.message_id, status: 'complete' })
    expect(rows[0].content).toBe(frames.filter((x) => x.event === 'chat.delta').map((x) => x.data.delta).join(''))
    // The user message, then three refused attempts and the one that went through.
    expect(inserts.length).toBe(5)
    expect(inserts.filter((s) => s.status.code === 2)).toHaveLength(3)
    expect(logs.filter((l) => l.includes('could not store the answer; retrying'))).toHaveLength(3)
  })

  it('does not retry a permanent refusal: an error frame, nothing stored', async () => {
    const { frames, rows, inserts } = await chatWhileRefusing('23514', 1) // check_violation
    expect(frames.at(-1)).toMatchObject({ event: 'error', data: { code: 'database_unavailable' } })
    expect(rows).toHaveLength(0)
    expect(inserts.filter((s) => s.status.code === 2)).toHaveLength(1)
  })
})
