-- A trace's owner is kept while the trace is in use and for the telemetry retention after: a
-- request continuing the trace refreshes `seen_at` (the claim's upsert writes the row anyway),
-- and the maintenance pass forgets owners unseen for longer than spans and logs are kept.
alter table public.trace_owners add column seen_at timestamptz not null default now();
create index trace_owners_seen_at_idx on public.trace_owners (seen_at);

create or replace function public.prune_trace_owners(days integer)
returns bigint
language sql
set search_path = ''
as $$
  with gone as (delete from public.trace_owners where seen_at < now() - make_interval(days => days) returning 1)
  select count(*) from gone
$$;
revoke execute on function public.prune_trace_owners(integer) from public, anon, authenticated;

-- The maintenance pass of 20261125000303_telemetry_retention.sql, now also forgetting old trace owners.
create or replace function telemetry.run_maintenance(retention_days integer default 30, rollup_retention_days integer default 400)
returns jsonb
language plpgsql
as $$
declare
  today date := (now() at time zone 'UTC')::date;
  created integer;
  dropped integer;
  pruned bigint;
  owners bigint;
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
  owners := public.prune_trace_owners(retention_days);
  return jsonb_build_object('created', created, 'dropped', dropped, 'rollups_pruned', pruned, 'trace_owners_pruned', owners);
end
$$;
