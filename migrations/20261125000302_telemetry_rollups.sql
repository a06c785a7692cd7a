-- Per-minute rollups of request spans, maintained by the same statement that
-- inserts the spans (shared/telemetry/insert.ts), so they never disagree with the
-- raw rows. Dashboards read these, never a scan of raw spans for a chart.

-- Latency histograms use fixed log-spaced buckets: upper bounds 1.25^i ms for
-- i = 0..65 (1 ms .. ~33 min), then one open-ended bucket (upper bound Infinity).
-- Bucket k counts values v with bounds[k-1] < v <= bounds[k] (bucket 1: v <= 1 ms).
-- Any quantile read from a histogram is within one bucket (±25%) of the exact one.
create or replace function telemetry.hist_bounds()
returns double precision[]
language sql immutable parallel safe
as $$
  select array_agg(case when i = 66 then 'Infinity'::double precision else power(1.25::double precision, i) end order by i)
  from generate_series(0, 66) as i
$$;

-- 1-based bucket of a value; least() before the cast also catches NaN and Infinity.
create or replace function telemetry.hist_bucket(v double precision)
returns integer
language sql immutable strict parallel safe
as $$
  select case when v <= 1 then 1 else least(67, 1 + ceil(ln(v) / ln(1.25)))::integer end
$$;

create or replace function telemetry.hist_add(a integer[], b integer[])
returns integer[]
language sql immutable parallel safe
as $$
  select case
    when a is null then b
    when b is null then a
    else array(select coalesce(x, 0) + coalesce(y, 0) from unnest(a, b) with ordinality as u(x, y, n) order by n)
  end
$$;

-- Element-wise sum of histograms: select telemetry.hist_sum(ttfb_hist) from telemetry.rollup_minute where …
create aggregate telemetry.hist_sum(integer[]) (
  sfunc = telemetry.hist_add,
  stype = integer[],
  combinefunc = telemetry.hist_add,
  parallel = safe
);

create or replace function telemetry.hist_acc(state integer[], v double precision)
returns integer[]
language plpgsql immutable parallel safe
as $$
declare
  i integer;
begin
  if v is null then return state; end if;
  i := telemetry.hist_bucket(v);
  state[i] := state[i] + 1;
  return state;
end
$$;

-- Histogram of raw values (ms): what the writer adds into rollup_minute.
do $$
begin
  execute format(
    'create aggregate telemetry.hist_agg(double precision) (sfunc = telemetry.hist_acc, stype = integer[], initcond = %L)',
    array_fill(0, array[67])::text);
end
$$;

-- The q-quantile (0..1) of a histogram, linearly interpolated inside its bucket;
-- in the open-ended last bucket, its lower bound. Null for an empty histogram.
create or replace function telemetry.hist_quantile(hist integer[], q double precision)
returns double precision
language plpgsql immutable parallel safe
as $$
declare
  bounds double precision[] := telemetry.hist_bounds();
  total bigint;
  target double precision;
  cum bigint := 0;
  c integer;
  lo double precision;
begin
  if hist is null then return null; end if;
  select coalesce(sum(x), 0) into total from unnest(hist) as x;
  if total = 0 then return null; end if;
  target := greatest(0, least(1, q)) * total;
  for i in 1 .. array_length(hist, 1) loop
    c := coalesce(hist[i], 0);
    if c > 0 and cum + c >= target then
      lo := case when i = 1 then 0 else bounds[i - 1] end;
      if bounds[i] = 'Infinity' then return lo; end if;
      return lo + (bounds[i] - lo) * greatest(0, target - cum) / c;
    end if;
    cum := cum + c;
  end loop;
  return null;
end
$$;

-- How a request ended, for the rollup's status column. 499 is the "client closed
-- the request" convention (embed answers it when the caller goes away).
create or replace function telemetry.request_status(http_status smallint, status_code text, end_reason text)
returns text
language sql immutable parallel safe
as $$
  select case
    when end_reason = 'client_abort' or http_status = 499 then 'aborted'
    when http_status >= 500 or status_code = 'error' or end_reason in ('error', 'timeout') then 'error'
    when http_status >= 400 then 'client_error'
    else 'ok'
  end
$$;

create table telemetry.rollup_minute (
  bucket         timestamptz not null,            -- date_trunc('minute', start_time)
  function       text not null,                   -- 'chat' | 'embed'
  model          text not null default '',
  status         text not null,                   -- ok | error | client_error | aborted
  error_type     text not null default '',
  user_id        text not null default '',
  requests       integer not null,
  errors         integer not null,
  input_tokens   bigint not null,
  output_tokens  bigint not null,
  cost_usd       numeric(16, 8) not null,
  stream_ms      double precision not null,       -- sum of durations: avg concurrent streams = stream_ms / 60000
  stalls         integer not null,
  frames         bigint not null,
  ttfb_hist      integer[] not null,              -- counts per telemetry.hist_bounds() bucket
  duration_hist  integer[] not null,
  primary key (bucket, function, model, status, error_type, user_id)
);
