-- What a stream's frames and its client's beacon say, kept in rollup_minute and rollup_hour
-- so long ranges read them from the rollups like every other chart (and rollup_session, below):
--   itl_hist          gaps between consecutive delta frames (inter-token latency, the GenAI
--                     conventions' gen_ai.client.operation.time_per_output_chunk), ms
--   tps_hist          output tokens per second of each stream (telemetry.output_tokens_per_s)
--   client_ttfb_hist  TTFB as the client measured it (the beacon's `client timing` span), ms
--   net_ttfb_hist     per request, client TTFB minus server TTFB: the network and proxy share, ms
-- Same layout as ttfb_hist (telemetry.hist_buckets()); null where nothing was observed (an
-- embed row has no frames, most rows no beacon), which keeps the rows narrow: a row holding all
-- six histograms stays under the size at which Postgres compresses a row's arrays in place
-- (every bucket the dashboard sums would then decompress the whole array again).
alter table telemetry.rollup_minute
  add column itl_hist integer[], add column tps_hist integer[],
  add column client_ttfb_hist integer[], add column net_ttfb_hist integer[];
alter table telemetry.rollup_hour
  add column itl_hist integer[], add column tps_hist integer[],
  add column client_ttfb_hist integer[], add column net_ttfb_hist integer[];

-- Cost per session over its whole life, and the days it spans: the spend page's top sessions
-- walk rollup_session_cost_idx from the top instead of summing a month of rollup_day_session
-- (dashboard/src/lib/server/spend.ts; a session's total bounds its cost within any window).
-- user_id is the least of the session's user ids (a session has one).
create table telemetry.rollup_session (
  session_id     text primary key,
  user_id        text not null,
  first_day      date not null,                   -- UTC days of its first and last request
  last_day       date not null,
  requests       integer not null,
  input_tokens   bigint not null,
  output_tokens  bigint not null,
  cost_usd       numeric(16, 8) not null
);
create index rollup_session_cost_idx on telemetry.rollup_session (cost_usd desc, requests desc, session_id);
revoke all on telemetry.rollup_session from public, anon, authenticated;
-- The exact in-window cost of a session that started before the window or ends after it.
create index rollup_day_session_session_idx on telemetry.rollup_day_session (session_id, day);

insert into telemetry.rollup_session
select session_id, min(user_id collate "C"), min(day), max(day), sum(requests), sum(input_tokens), sum(output_tokens), sum(cost_usd)
from telemetry.rollup_day_session
where session_id <> ''
group by session_id;

create or replace function telemetry.prune_rollups(days integer)
returns bigint
language plpgsql
as $$
declare
  cutoff timestamptz := now() - make_interval(days => days);
  n bigint;
  total bigint := 0;
begin
  delete from telemetry.rollup_minute where bucket < cutoff;
  get diagnostics n = row_count; total := total + n;
  delete from telemetry.rollup_hour where bucket < date_trunc('hour', cutoff);
  get diagnostics n = row_count; total := total + n;
  delete from telemetry.rollup_day_session where day < (cutoff at time zone 'UTC')::date;
  get diagnostics n = row_count; total := total + n;
  -- A session that outlives the cutoff keeps its older cost in its total: still a bound.
  delete from telemetry.rollup_session where last_day < (cutoff at time zone 'UTC')::date;
  get diagnostics n = row_count; total := total + n;
  return total;
end
$$;

-- The gaps between consecutive frame offsets, in order: the one definition of a stream's
-- inter-token latency (the rollups histogram it, the trace page reads its percentiles).
-- PL/pgSQL's foreach reads the array once; a subscript per element would detoast (and, for a
-- long stream, decompress) the whole array again for every frame.
create or replace function telemetry.frame_gaps(offsets real[])
returns double precision[]
language plpgsql immutable parallel safe
as $$
declare
  gaps double precision[] := '{}'::double precision[];
  prev double precision;
  v double precision;
begin
  if offsets is null then return gaps; end if;
  foreach v in array offsets loop
    if prev is not null then gaps := gaps || (v - prev); end if;
    prev := v;
  end loop;
  return gaps;
end
$$;

-- Output tokens per second after the first frame: the tokens after the first over the time
-- from the first frame to the last (the first token's wait is TTFB's, not the speed's).
-- Null for a stream of fewer than two tokens or with all frames at one instant. The array is
-- read once (as frame_gaps).
create or replace function telemetry.output_tokens_per_s(offsets real[], output_tokens integer)
returns double precision
language plpgsql immutable parallel safe
as $$
declare
  first double precision;
  last double precision;
  v double precision;
begin
  if offsets is null or output_tokens is null or output_tokens < 2 then return null; end if;
  foreach v in array offsets loop
    if first is null then first := v; end if;
    last := v;
  end loop;
  if last is null or last <= first then return null; end if;
  return (output_tokens - 1) * 1000 / (last - first);
end
$$;

-- A batch's rollup_minute rows: its request spans, and its beacons in their requests' rows
-- (see roll_up below), grouped per minute and key.
create or replace function telemetry.minute_rollup_rows(p_spans telemetry.spans[])
returns setof telemetry.rollup_minute
language sql stable
as $$
  with beacons as (
    select b.trace_id, b.parent_span_id, b.start_time, (b.attributes ->> 'streamscope.client.ttfb_ms')::float8 as client_ttfb_ms
    from unnest(p_spans) b
    where b.parent_span_id is not null and b.attributes ? 'streamscope.client.ttfb_ms'
  ), timed as (
    select q.start_time, q.function, q.model, q.http_status, q.status_code, q.end_reason, q.error_type, q.user_id,
           b.client_ttfb_ms, q.ttfb_ms
    from beacons b join unnest(p_spans) q on q.trace_id = b.trace_id and q.span_id = b.parent_span_id
    where q.kind = 'server' and q.function is not null
    union all
    select p.start_time, p.function, p.model, p.http_status, p.status_code, p.end_reason, p.error_type, p.user_id,
           b.client_ttfb_ms, p.ttfb_ms
    from beacons b cross join lateral (
      select s.start_time, s.function, s.model, s.http_status, s.status_code, s.end_reason, s.error_type, s.user_id, s.ttfb_ms
      from telemetry.spans s
      where s.trace_id = b.trace_id and s.span_id = b.parent_span_id and s.kind = 'server' and s.function is not null
        and s.start_time >= b.start_time - interval '1 day' and s.start_time <= b.start_time
      limit 1) p
    where not exists (select from unnest(p_spans) q where q.trace_id = b.trace_id and q.span_id = b.parent_span_id)
  ), contributions as (
    select start_time, function, model, http_status, status_code, end_reason, error_type, user_id,
      1 as n, input_tokens, output_tokens, cost_usd, duration_ms, ttfb_ms, stalls, frames,
      telemetry.frame_gaps(frame_offsets_ms) as gaps, telemetry.output_tokens_per_s(frame_offsets_ms, output_tokens) as tokens_per_s,
      null::float8 as client_ttfb_ms, null::float8 as net_ttfb_ms
    from unnest(p_spans)
    where kind = 'server' and function is not null
    union all
    select start_time, function, model, http_status, status_code, end_reason, error_type, user_id,
      0, null, null, null, null, null, null, null, null, null,
      client_ttfb_ms, client_ttfb_ms - ttfb_ms
    from timed
  ), requests as (
    select date_trunc('minute', start_time) as bucket, function, coalesce(model, '') as model,
      telemetry.request_status(http_status, status_code, end_reason) as status,
      coalesce(error_type, '') as error_type, coalesce(user_id, '') as user_id,
      n, input_tokens, output_tokens, cost_usd, duration_ms, ttfb_ms, stalls, frames, gaps, tokens_per_s, client_ttfb_ms, net_ttfb_ms
    from contributions
  ), grouped as (
    select bucket, function, model, status, error_type, user_id,
      sum(n)::integer as requests, (count(*) filter (where n = 1 and status = 'error'))::integer as errors,
      coalesce(sum(input_tokens), 0)::bigint as input_tokens, coalesce(sum(output_tokens), 0)::bigint as output_tokens,
      coalesce(sum(cost_usd), 0)::numeric(16, 8) as cost_usd, coalesce(sum(duration_ms), 0)::float8 as stream_ms,
      coalesce(sum(stalls), 0)::integer as stalls, coalesce(sum(frames), 0)::bigint as frames,
      telemetry.hist_agg(ttfb_ms) as ttfb_hist, telemetry.hist_agg(duration_ms) as duration_hist,
      telemetry.hist_sum(telemetry.hist_of(gaps)) filter (where cardinality(gaps) > 0) as itl_hist,
      case when count(tokens_per_s) > 0 then telemetry.hist_agg(tokens_per_s) end as tps_hist,
      case when count(client_ttfb_ms) > 0 then telemetry.hist_agg(client_ttfb_ms) end as client_ttfb_hist,
      case when count(net_ttfb_ms) > 0 then telemetry.hist_agg(net_ttfb_ms) end as net_ttfb_hist
    from requests
    group by bucket, function, model, status, error_type, user_id
  )
  select bucket, function, model, status, error_type, user_id, requests, errors, input_tokens, output_tokens,
    cost_usd, stream_ms, stalls, frames, ttfb_hist, duration_hist, itl_hist, tps_hist, client_ttfb_hist, net_ttfb_hist
  from grouped
$$;

-- As 20261206000140, plus the four histograms above and rollup_session. The batch is grouped
-- once, per minute: rollup_minute takes those rows and rollup_hour their sums per hour, so a
-- stream's gaps are bucketed once, not once per table. Every upsert takes its row locks in key
-- order and every writer upserts the tables in the same order: no deadlocks.
-- A beacon's `client timing` span (attribute streamscope.client.ttfb_ms, ATTR.clientTtfbMs) is
-- counted in the rollup row of the request span it is a child of: found in the same batch or
-- among the spans written before it (a day back at most), so client and server TTFB are of the
-- same requests, in the same bucket. It adds no request. A beacon whose request span is not
-- written yet has no row to join and is left out of the rollups (the trace page still shows it).
create or replace function telemetry.roll_up(p_spans telemetry.spans[])
returns void
language plpgsql
as $$
declare
  minutes telemetry.rollup_minute[];
  -- %1$I the table, %2$s its key columns after error_type, %3$s the rows (its columns in order).
  upsert constant text := $q$
    insert into telemetry.%1$I as r
    select * from (%3$s) d
    order by bucket, function, model, status, error_type%2$s
    on conflict (bucket, function, model, status, error_type%2$s) do update set
      requests = r.requests + excluded.requests,
      errors = r.errors + excluded.errors,
      input_tokens = r.input_tokens + excluded.input_tokens,
      output_tokens = r.output_tokens + excluded.output_tokens,
      cost_usd = r.cost_usd + excluded.cost_usd,
      stream_ms = r.stream_ms + excluded.stream_ms,
      stalls = r.stalls + excluded.stalls,
      frames = r.frames + excluded.frames,
      ttfb_hist = telemetry.hist_add(r.ttfb_hist, excluded.ttfb_hist),
      duration_hist = telemetry.hist_add(r.duration_hist, excluded.duration_hist),
      itl_hist = telemetry.hist_add(r.itl_hist, excluded.itl_hist),
      tps_hist = telemetry.hist_add(r.tps_hist, excluded.tps_hist),
      client_ttfb_hist = telemetry.hist_add(r.client_ttfb_hist, excluded.client_ttfb_hist),
      net_ttfb_hist = telemetry.hist_add(r.net_ttfb_hist, excluded.net_ttfb_hist)
  $q$;
begin
  if p_spans is null then return; end if;
  select array_agg(m) into minutes from telemetry.minute_rollup_rows(p_spans) as m;
  if minutes is null then return; end if;

  execute format(upsert, 'rollup_minute', ', user_id', 'select * from unnest($1)') using minutes;
  execute format(upsert, 'rollup_hour', '', $h$
    select date_trunc('hour', bucket) as bucket, function, model, status, error_type,
      sum(requests)::integer, sum(errors)::integer, sum(input_tokens)::bigint, sum(output_tokens)::bigint, sum(cost_usd),
      sum(stream_ms), sum(stalls)::integer, sum(frames)::bigint,
      telemetry.hist_sum(ttfb_hist), telemetry.hist_sum(duration_hist), telemetry.hist_sum(itl_hist), telemetry.hist_sum(tps_hist),
      telemetry.hist_sum(client_ttfb_hist), telemetry.hist_sum(net_ttfb_hist)
    from unnest($1)
    group by 1, 2, 3, 4, 5 $h$) using minutes;
  insert into telemetry.rollup_day_session as r (day, session_id, user_id, model, requests, input_tokens, output_tokens, cost_usd)
  select (s.start_time at time zone 'UTC')::date, coalesce(s.session_id, ''), coalesce(s.user_id, ''), coalesce(s.model, ''),
    count(*), coalesce(sum(s.input_tokens), 0), coalesce(sum(s.output_tokens), 0), coalesce(sum(s.cost_usd), 0)
  from unnest(p_spans) s
  where s.kind = 'server' and s.function is not null
  group by 1, 2, 3, 4
  order by 1, 2, 3, 4
  on conflict (day, session_id, user_id, model) do update set
    requests = r.requests + excluded.requests,
    input_tokens = r.input_tokens + excluded.input_tokens,
    output_tokens = r.output_tokens + excluded.output_tokens,
    cost_usd = r.cost_usd + excluded.cost_usd;
  insert into telemetry.rollup_session as r (session_id, user_id, first_day, last_day, requests, input_tokens, output_tokens, cost_usd)
  select s.session_id, min(coalesce(s.user_id, '') collate "C"), min((s.start_time at time zone 'UTC')::date), max((s.start_time at time zone 'UTC')::date),
    count(*), coalesce(sum(s.input_tokens), 0), coalesce(sum(s.output_tokens), 0), coalesce(sum(s.cost_usd), 0)
  from unnest(p_spans) s
  where s.kind = 'server' and s.function is not null and s.session_id <> ''
  group by 1
  order by 1
  on conflict (session_id) do update set
    user_id = least(r.user_id collate "C", excluded.user_id collate "C"),
    first_day = least(r.first_day, excluded.first_day),
    last_day = greatest(r.last_day, excluded.last_day),
    requests = r.requests + excluded.requests,
    input_tokens = r.input_tokens + excluded.input_tokens,
    output_tokens = r.output_tokens + excluded.output_tokens,
    cost_usd = r.cost_usd + excluded.cost_usd;
end
$$;

-- New telemetry functions are revoked from the API roles (as 20261125000201 did for the
-- first ones); the dashboard reads a trace's gaps and speed through them.
revoke all on function telemetry.frame_gaps(real[]), telemetry.output_tokens_per_s(real[], integer),
  telemetry.minute_rollup_rows(telemetry.spans[]) from public, anon, authenticated, service_role;
grant execute on function telemetry.frame_gaps(real[]), telemetry.output_tokens_per_s(real[], integer) to streamscope_dashboard;
