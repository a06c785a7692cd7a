-- A chat stream's frames, kept in Postgres so that a resume or a repeated Idempotency-Key on any
-- isolate finds them (functions/chat/stream-log-store.ts). The isolate generating the answer
-- appends the deltas in batches (one row per batch, one statement per batch that also moves the
-- stream's `last_seq` and `beat_at`), and says it is alive (`beat_at`) while no frame flows.
-- Followers on other isolates poll: the functions reach Postgres through a transaction-mode
-- pooler, where LISTEN does not survive between transactions. A live stream whose `beat_at` is
-- older than the deadline lost its isolate: the first follower to see that stores it as cut.
create table public.chat_streams (
  stream_id        uuid primary key,
  user_id          uuid not null,
  session_id       uuid not null,
  -- the stream's request span: a resume's span is put under it, on the stream's trace
  trace_id         text not null,
  span_id          text not null,
  model            text not null,
  idempotency_key  text,
  status           text not null default 'live' check (status in ('live', 'complete', 'error', 'cut')),
  last_seq         integer not null default 0,
  -- the final frame (`chat.done` or `error`) as first sent, once the stream ended
  terminal         text,
  beat_at          timestamptz not null default now(),
  ended_at         timestamptz,
  created_at       timestamptz not null default now()
);
create index chat_streams_idempotency_idx on public.chat_streams (user_id, idempotency_key)
  where idempotency_key is not null;
-- Streams are forgotten RESUME_RETENTION_SECONDS after their last beat (the end is a beat).
create index chat_streams_beat_at_idx on public.chat_streams (beat_at);

create table public.chat_stream_frames (
  stream_id  uuid not null references public.chat_streams on delete cascade,
  -- the seq of deltas->0; deltas->i is the text of the chat.delta of seq first_seq + i
  first_seq  integer not null check (first_seq > 0),
  deltas     jsonb not null check (jsonb_typeof(deltas) = 'array'),
  primary key (stream_id, first_seq)
);

-- Only the functions read and write them: RLS on with no policy, and no client grants.
alter table public.chat_streams enable row level security;
alter table public.chat_stream_frames enable row level security;
revoke all on public.chat_streams, public.chat_stream_frames from public, anon, authenticated;
grant all on public.chat_streams, public.chat_stream_frames to service_role;

-- The text a stream's logged deltas make, in seq order.
create function public.chat_stream_text(id uuid)
returns text
language sql
stable
set search_path = ''
as $$
  select coalesce(string_agg(d.value, '' order by f.first_seq, d.ord), '')
  from public.chat_stream_frames f
  cross join lateral jsonb_array_elements_text(f.deltas) with ordinality as d(value, ord)
  where f.stream_id = id
$$;

-- The partial answer of streams whose isolate stopped, stored as `cut` under the stream's id (a
-- stream whose answer was stored already keeps it).
create function public.store_lost_answers(ids uuid[])
returns void
language sql
set search_path = ''
as $$
  insert into public.messages (id, session_id, user_id, role, content, status, model, finish_reason, output_tokens, trace_id)
  select s.stream_id, s.session_id, s.user_id, 'assistant', public.chat_stream_text(s.stream_id), 'cut', s.model,
         'stream_cut', s.last_seq, s.trace_id
  from public.chat_streams s
  where s.stream_id = any(ids) and s.status in ('live', 'cut')
  on conflict (id) do nothing
$$;

-- A follower found the stream live but its beats stopped for `dead_seconds`: it is cut, once
-- (true for the caller that cut it), with `terminal` as its final frame.
create function public.cut_chat_stream(id uuid, dead_seconds double precision, terminal text)
returns boolean
language plpgsql
set search_path = ''
as $$
begin
  update public.chat_streams s set status = 'cut', terminal = cut_chat_stream.terminal, ended_at = now(), beat_at = now()
  where s.stream_id = id and s.status = 'live' and s.beat_at < now() - make_interval(secs => dead_seconds);
  if not found then
    return false;
  end if;
  perform public.store_lost_answers(array[id]);
  return true;
end
$$;

-- The generating isolate's last write: the remaining deltas, the final frame, and streams past
-- their retention forgotten (a few per call; those whose isolate stopped get their answer stored).
create function public.end_chat_stream(
  id uuid, first_seq integer, deltas jsonb, last_seq integer, status text, terminal text, retention_seconds double precision
)
returns void
language plpgsql
set search_path = ''
as $$
declare
  old uuid[];
begin
  if jsonb_array_length(deltas) > 0 then
    insert into public.chat_stream_frames (stream_id, first_seq, deltas) values (id, first_seq, deltas);
  end if;
  update public.chat_streams s
  set last_seq = end_chat_stream.last_seq, status = end_chat_stream.status, terminal = end_chat_stream.terminal,
      beat_at = now(), ended_at = now()
  where s.stream_id = id and s.status = 'live';
  select array_agg(o.stream_id) into old from (
    select c.stream_id from public.chat_streams c
    where c.beat_at < now() - make_interval(secs => retention_seconds)
    order by c.beat_at limit 20 for update skip locked
  ) o;
  if old is not null then
    perform public.store_lost_answers(old);
    delete from public.chat_streams c where c.stream_id = any(old);
  end if;
end
$$;

revoke execute on function public.chat_stream_text(uuid), public.store_lost_answers(uuid[]),
  public.cut_chat_stream(uuid, double precision, text),
  public.end_chat_stream(uuid, integer, jsonb, integer, text, text, double precision)
  from public, anon, authenticated;
