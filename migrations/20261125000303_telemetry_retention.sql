-- Retention. Spans and logs are dropped a whole day partition at a time (no
-- DELETE, no vacuum debt); rollups are kept longer and pruned by DELETE: they are
-- small (one row per minute and key) and indexed by bucket.

-- Drops the day partitions of spans and logs that end on or before
-- (today UTC - days). Reads each partition's bounds, so it works for the native
-- names (spans_20261125) and pg_partman's alike. Returns how many were dropped.
create or replace function telemetry.drop_partitions_older_than(days integer)
returns integer
language plpgsql
as $$
declare
  cutoff timestamptz := (date_trunc('day', now() at time zone 'UTC') - make_interval(days => days)) at time zone 'UTC';
  part record;
  dropped integer := 0;
begin
  if days < 1 then raise exception 'retention must be at least 1 day, got %', days; end if;
  for part in
    select c.oid::regclass as rel,
           (regexp_match(pg_get_expr(c.relpartbound, c.oid), 'TO \(''([^'']+)''\)'))[1] as upper_bound
    from pg_inherits i
    join pg_class c on c.oid = i.inhrelid
    where i.inhparent in ('telemetry.spans'::regclass, 'telemetry.logs'::regclass)
  loop
    if part.upper_bound is not null and part.upper_bound::timestamptz <= cutoff then
      execute format('drop table %s', part.rel);
      dropped := dropped + 1;
    end if;
  end loop;
  return dropped;
end
$$;

create or replace function telemetry.prune_rollups(days integer)
returns bigint
language sql
as $$
  with gone as (delete from telemetry.rollup_minute where bucket < now() - make_interval(days => days) returning 1)
  select count(*) from gone
$$;

-- One maintenance pass: partitions ahead (yesterday .. +7 days), old days
-- dropped, old rollups pruned. server/maintenance.ts calls it hourly; on Supabase,
-- pg_cron does (scheduled below when pg_cron is installed).
create or replace function telemetry.run_maintenance(retention_days integer default 30, rollup_retention_days integer default 400)
returns jsonb
language plpgsql
as $$
declare
  today date := (now() at time zone 'UTC')::date;
  created integer;
  dropped integer;
  pruned bigint;
begin
  if to_regclass('partman.part_config') is not null then
    -- pg_partman premakes its own partitions and applies its retention setting.
    -- Statements built with format() so they are only resolved where partman exists
    -- (a constant string would be checked by plpgsql_check / `supabase db lint`).
    execute format('update %s set retention = $1, retention_keep_table = false where parent_table in (%L, %L)',
                   'partman.part_config', 'telemetry.spans', 'telemetry.logs')
      using retention_days || ' days';
    execute format('call %s()', 'partman.run_maintenance_proc');
  end if;
  created := telemetry.ensure_partitions(today - 1, today + 7);
  dropped := telemetry.drop_partitions_older_than(retention_days);
  pruned := telemetry.prune_rollups(rollup_retention_days);
  return jsonb_build_object('created', created, 'dropped', dropped, 'rollups_pruned', pruned);
end
$$;

-- Where pg_partman is installed (Supabase: Database → Extensions, schema
-- `partman`), hand it the daily partitions from the first day after the ones
-- already made natively; the native function remains the fallback everywhere
-- else, and any failure here leaves it in charge. pg_partman 5 first, then 4.
do $$
declare
  t text;
  start_day text := ((now() at time zone 'UTC')::date + 8)::text;
begin
  if to_regclass('partman.part_config') is null then return; end if;
  foreach t in array array['spans', 'logs'] loop
    if exists (select 1 from partman.part_config where parent_table = 'telemetry.' || t) then continue; end if;
    begin
      execute format($q$select partman.create_parent(p_parent_table => %L, p_control => %L, p_interval => '1 day',
        p_premake => 7, p_start_partition => %L, p_default_table => false)$q$,
        'telemetry.' || t, case t when 'spans' then 'start_time' else 'time' end, start_day);
    exception when others then
      begin
        execute format($q$select partman.create_parent(p_parent_table => %L, p_control => %L, p_type => 'native',
          p_interval => 'daily', p_premake => 7, p_start_partition => %L)$q$,
          'telemetry.' || t, case t when 'spans' then 'start_time' else 'time' end, start_day);
      exception when others then
        raise notice 'pg_partman present but not configured for telemetry.% (%); native partitions stay in charge', t, sqlerrm;
      end;
    end;
  end loop;
end
$$;

-- Supabase has no long-lived server process to run the loop: where pg_cron is
-- installed, schedule the pass hourly (30-day retention; change with cron.alter_job).
do $$
begin
  if to_regclass('cron.job') is null then return; end if;
  execute $q$select cron.schedule('streamscope-telemetry-maintenance', '17 * * * *', 'select telemetry.run_maintenance(30)')$q$;
exception when others then
  raise notice 'pg_cron present but the telemetry maintenance job was not scheduled: %', sqlerrm;
end
$$;
