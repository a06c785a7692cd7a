-- The per-stream record, promoted from span attributes to columns: one row per
-- request span carries the whole stream (frame arrival offsets as one array, not
-- a row per frame), its end, its cost and the load-test run it belongs to.
-- Adding nullable columns without a default is a catalog-only change, also on
-- partitioned tables with data.
alter table telemetry.spans
  add column frame_offsets_ms real[],          -- ms from request start, one per delta frame
  add column frames           integer,
  add column bytes            integer,
  add column end_reason       text,             -- done | error | client_abort | timeout
  add column stalls           integer,          -- gaps between frames above 2 s
  add column max_gap_ms       real,
  add column cost_usd         numeric(14, 8),   -- priced when written (telemetry.model_prices)
  add column usage_estimated  boolean,          -- tokens counted locally: the provider sent no usage
  add column http_status      smallint,
  add column run_id           text;             -- x-streamscope-run-id of a load-test client

create index spans_run_id_idx on telemetry.spans (run_id, start_time) where run_id is not null;

-- Partition bounds in UTC whatever the session's TimeZone: the writer names and
-- picks days in UTC, so a server set to another zone must not shift the ranges.
-- A day already covered by a partition under another name (pg_partman's) is skipped.
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
        begin
          execute format(
            'create table if not exists telemetry.%I partition of telemetry.%I for values from (%L) to (%L)',
            t || '_' || to_char(d, 'YYYYMMDD'), t,
            (d::timestamp at time zone 'UTC'), ((d + 1)::timestamp at time zone 'UTC')
          );
          created := created + 1;
        exception
          when invalid_object_definition then
            null; -- "would overlap partition ...": the day exists under another name
          when duplicate_table or unique_violation then
            null; -- another writer created the same day a moment ago
        end;
      end if;
    end loop;
  end loop;
  return created;
end
$$;
