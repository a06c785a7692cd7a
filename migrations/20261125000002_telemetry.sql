-- Telemetry lives in its own schema: clients (anon, authenticated) have no grant on it.
-- Spans and logs are range-partitioned by day so retention is a partition drop.
create schema if not exists telemetry;

create table telemetry.spans (
  trace_id        text not null,
  span_id         text not null,
  parent_span_id  text,
  name            text not null,
  kind            text not null,            -- server | client | internal | producer | consumer
  start_time      timestamptz not null,
  end_time        timestamptz not null,
  duration_ms     double precision not null,
  status_code     text not null default 'unset', -- unset | ok | error
  status_message  text,
  -- promoted from attributes: what the dashboard filters and aggregates on
  function        text,
  model           text,
  ttfb_ms         double precision,
  input_tokens    integer,
  output_tokens   integer,
  error_type      text,
  user_id         text,
  session_id      text,
  attributes      jsonb not null default '{}'::jsonb,
  events          jsonb,
  primary key (start_time, span_id)
) partition by range (start_time);

create index spans_trace_id_idx on telemetry.spans (trace_id);
create index spans_root_time_idx on telemetry.spans (start_time desc) where parent_span_id is null;

create table telemetry.logs (
  time        timestamptz not null,
  level       text not null,               -- debug | info | warn | error
  trace_id    text,
  span_id     text,
  message     text not null,
  attributes  jsonb not null default '{}'::jsonb
) partition by range (time);

create index logs_trace_id_idx on telemetry.logs (trace_id);
create index logs_time_idx on telemetry.logs (time desc);

-- Creates the daily partitions of spans and logs covering [from_day, to_day].
-- Called by this migration, by the server's maintenance loop, and by the
-- telemetry writer when a row lands outside every partition.
create or replace function telemetry.ensure_partitions(from_day date, to_day date)
returns integer
language plpgsql
as $$
declare
  d date;
  t text;
  created integer := 0;
begin
  for d in select generate_series(from_day, to_day, interval '1 day')::date loop
    foreach t in array array['spans', 'logs'] loop
      if to_regclass(format('telemetry.%I', t || '_' || to_char(d, 'YYYYMMDD'))) is null then
        execute format(
          'create table if not exists telemetry.%I partition of telemetry.%I for values from (%L) to (%L)',
          t || '_' || to_char(d, 'YYYYMMDD'), t, d, d + 1
        );
        created := created + 1;
      end if;
    end loop;
  end loop;
  return created;
end
$$;

select telemetry.ensure_partitions(current_date - 1, current_date + 7);

revoke all on schema telemetry from public;
