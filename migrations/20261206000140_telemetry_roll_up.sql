-- The latency histogram layout declared once in SQL, the price of a span in a form the span
-- insert can inline, and the rollups maintained by one function the span insert calls
-- (shared/telemetry/insert.ts).

-- The layout: hist_buckets() buckets; bucket k (1-based) counts values v with
-- hist_growth()^(k-2) < v <= hist_growth()^(k-1) ms, bucket 1 everything <= 1 ms, the last
-- one is open-ended. Every histogram function below follows from these two; the dashboard's
-- copy (dashboard/src/lib/hist.ts) is checked against them (tests/dashboard/hist-layout.test.ts).
-- Both inline into their callers as constants.
create or replace function telemetry.hist_buckets()
returns integer
language sql immutable parallel safe
as $$ select 67 $$;

-- numeric: hist_bucket divides by ln() of it as it always has.
create or replace function telemetry.hist_growth()
returns numeric
language sql immutable parallel safe
as $$ select 1.25 $$;

create or replace function telemetry.hist_bounds()
returns double precision[]
language sql immutable parallel safe
as $$
  select array_agg(case when i = telemetry.hist_buckets() - 1 then 'Infinity'::double precision
                        else power(telemetry.hist_growth()::double precision, i) end order by i)
  from generate_series(0, telemetry.hist_buckets() - 1) as i
$$;

-- 1-based bucket of a value; least() before the cast also catches NaN and Infinity.
create or replace function telemetry.hist_bucket(v double precision)
returns integer
language sql immutable parallel safe
as $$
  select case when v is null then null when v <= 1 then 1
              else least(telemetry.hist_buckets(), 1 + ceil(ln(v) / ln(telemetry.hist_growth())))::integer end
$$;

-- Histogram (hist_buckets() counts, as hist_agg) of raw values in ms; nulls are skipped.
create or replace function telemetry.hist_of(vs double precision[])
returns integer[]
language plpgsql immutable parallel safe
as $$
declare
  r integer[] := array_fill(0, array[telemetry.hist_buckets()]);
  v double precision;
  b integer;
begin
  if vs is null then return r; end if;
  foreach v in array vs loop
    if v is not null then
      b := telemetry.hist_bucket(v);
      r[b] := r[b] + 1;
    end if;
  end loop;
  return r;
end
$$;

-- Two full-length histograms are added by one array constructor, written out here.
do $do$
begin
  execute format($f$
    create or replace function telemetry.hist_add(a integer[], b integer[])
    returns integer[]
    language plpgsql immutable parallel safe
    as $body$
    begin
      if a is null then return b; end if;
      if b is null then return a; end if;
      if cardinality(a) = %1$s and cardinality(b) = %1$s then return array[%2$s]; end if;
      return array(select coalesce(x, 0) + coalesce(y, 0) from unnest(a, b) with ordinality as u(x, y, n) order by n);
    end
    $body$
  $f$,
    telemetry.hist_buckets(),
    (select string_agg(format('coalesce(a[%1$s], 0) + coalesce(b[%1$s], 0)', i), ', ' order by i)
     from generate_series(1, telemetry.hist_buckets()) as i));
end
$do$;

-- A span's cost at the price in force when it started, as telemetry.span_cost (which is now
-- defined by it), but as a set (no row: unknown model or no usage), so that it inlines into the
-- query that calls it: the span insert prices a batch by an index probe per row, not a
-- function call per row.
create or replace function telemetry.span_costs(p_model text, p_at timestamptz, p_input integer, p_output integer)
returns setof numeric
language sql stable parallel safe rows 1
as $$
  select (coalesce(p_input, 0) * p.input_usd_per_mtok + coalesce(p_output, 0) * p.output_usd_per_mtok) / 1000000
  from telemetry.model_prices p
  where p.model = p_model and p.effective_from <= p_at and (p_input is not null or p_output is not null)
  order by p.effective_from desc
  limit 1
$$;

create or replace function telemetry.span_cost(p_model text, p_at timestamptz, p_input integer, p_output integer)
returns numeric
language sql stable parallel safe
as $$ select (select c from telemetry.span_costs(p_model, p_at, p_input, p_output) as c) $$;

-- Folds spans just inserted into rollup_minute, rollup_hour and rollup_day_session; only
-- request spans (kind server, function set) count. The span insert calls it once per batch
-- with the rows it inserted (`on conflict do nothing`), so a replayed batch adds nothing.
-- rollup_minute and rollup_hour are one upsert: the hour's has no user_id. Each takes its
-- row locks in key order, and every writer upserts the three in the same order: no deadlocks.
create or replace function telemetry.roll_up(p_spans telemetry.spans[])
returns void
language plpgsql
as $$
declare
  -- %1$I the table, %2$L its bucket width, %3$s its key columns after error_type.
  upsert constant text := $q$
    with requests as (
      select date_trunc(%2$L, start_time) as bucket, function, coalesce(model, '') as model,
        telemetry.request_status(http_status, status_code, end_reason) as status,
        coalesce(error_type, '') as error_type, coalesce(user_id, '') as user_id,
        input_tokens, output_tokens, cost_usd, duration_ms, ttfb_ms, stalls, frames
      from unnest($1)
      where kind = 'server' and function is not null
    )
    insert into telemetry.%1$I as r (
      bucket, function, model, status, error_type%3$s, requests, errors, input_tokens, output_tokens, cost_usd,
      stream_ms, stalls, frames, ttfb_hist, duration_hist)
    select bucket, function, model, status, error_type%3$s,
      count(*), count(*) filter (where status = 'error'),
      coalesce(sum(input_tokens), 0), coalesce(sum(output_tokens), 0), coalesce(sum(cost_usd), 0),
      sum(duration_ms), coalesce(sum(stalls), 0), coalesce(sum(frames), 0),
      telemetry.hist_agg(ttfb_ms), telemetry.hist_agg(duration_ms)
    from requests
    group by bucket, function, model, status, error_type%3$s
    order by bucket, function, model, status, error_type%3$s
    on conflict (bucket, function, model, status, error_type%3$s) do update set
      requests = r.requests + excluded.requests,
      errors = r.errors + excluded.errors,
      input_tokens = r.input_tokens + excluded.input_tokens,
      output_tokens = r.output_tokens + excluded.output_tokens,
      cost_usd = r.cost_usd + excluded.cost_usd,
      stream_ms = r.stream_ms + excluded.stream_ms,
      stalls = r.stalls + excluded.stalls,
      frames = r.frames + excluded.frames,
      ttfb_hist = telemetry.hist_add(r.ttfb_hist, excluded.ttfb_hist),
      duration_hist = telemetry.hist_add(r.duration_hist, excluded.duration_hist)
  $q$;
begin
  if p_spans is null then return; end if;
  execute format(upsert, 'rollup_minute', 'minute', ', user_id') using p_spans;
  execute format(upsert, 'rollup_hour', 'hour', '') using p_spans;
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
end
$$;

-- 20261125000201 revoked every telemetry function from PUBLIC; functions created since
-- are revoked here. The dashboard reads the layout (through hist_bounds and hist_quantile).
revoke all on function telemetry.hist_buckets(), telemetry.hist_growth(), telemetry.roll_up(telemetry.spans[]),
  telemetry.span_costs(text, timestamptz, integer, integer) from public, anon, authenticated, service_role;
grant execute on function telemetry.hist_buckets(), telemetry.hist_growth() to streamscope_dashboard;
