-- Retention as a setting in the database, and the pg_cron job scheduled whenever pg_cron arrives.
-- On Supabase nothing long-lived reads TELEMETRY_RETENTION_DAYS: the hourly job reads this row
-- at run time instead, so a change (by SQL, or by a server started with the variable) applies to
-- the next pass without rescheduling anything.
create table telemetry.settings (
  -- One row: the primary key can only be true.
  id boolean primary key default true check (id),
  retention_days integer not null default 30 check (retention_days >= 1),
  rollup_retention_days integer not null default 400 check (rollup_retention_days >= 1)
);
insert into telemetry.settings default values;
revoke all on telemetry.settings from public, anon, authenticated, service_role;

-- The pass of 20261204000510_trace_owner_retention.sql; an argument left out (null) is read from
-- telemetry.settings when the pass runs.
create or replace function telemetry.run_maintenance(retention_days integer default null, rollup_retention_days integer default null)
returns jsonb
language plpgsql
as $$
declare
  today date := (now() at time zone 'UTC')::date;
  keep integer := retention_days;
  keep_rollups integer := rollup_retention_days;
  created integer;
  dropped integer;
  pruned bigint;
  owners bigint;
begin
  select coalesce(keep, s.retention_days), coalesce(keep_rollups, s.rollup_retention_days)
    into keep, keep_rollups from telemetry.settings s;
  keep := coalesce(keep, 30);
  keep_rollups := coalesce(keep_rollups, 400);
  if to_regclass('partman.part_config') is not null then
    -- pg_partman premakes its own partitions and applies its retention setting.
    -- Statements built with format() so they are only resolved where partman exists
    -- (a constant string would be checked by plpgsql_check / `supabase db lint`).
    execute format('update %s set retention = $1, retention_keep_table = false where parent_table in (%L, %L)',
                   'partman.part_config', 'telemetry.spans', 'telemetry.logs')
      using keep || ' days';
    execute format('call %s()', 'partman.run_maintenance_proc');
  end if;
  created := telemetry.ensure_partitions(today - 1, today + 7);
  dropped := telemetry.drop_partitions_older_than(keep);
  pruned := telemetry.prune_rollups(keep_rollups);
  owners := public.prune_trace_owners(keep);
  return jsonb_build_object('created', created, 'dropped', dropped, 'rollups_pruned', pruned, 'trace_owners_pruned', owners,
                            'retention_days', keep);
end
$$;

-- The hourly job, (re)made where pg_cron is installed: idempotent (pg_cron updates a job of the
-- same name), so it is safe to call at every start and every pass. Returns what it did.
create or replace function telemetry.ensure_schedule()
returns text
language plpgsql
as $$
begin
  if to_regclass('cron.job') is null then return 'pg_cron is not installed'; end if;
  -- Through execute: the cron schema exists only where pg_cron does (plpgsql_check, db lint).
  execute format('select %s($1, $2, $3)', 'cron.schedule')
    using 'streamscope-telemetry-maintenance', '17 * * * *', 'select telemetry.run_maintenance()';
  return 'scheduled';
end
$$;

-- When pg_cron is created after this migration, schedule the job then. A failure must not undo
-- the CREATE EXTENSION: it is reported and ensure_schedule() can be run by hand.
create or replace function telemetry.schedule_on_pg_cron()
returns event_trigger
language plpgsql
as $$
begin
  if exists (select 1 from pg_event_trigger_ddl_commands() where object_type = 'extension' and object_identity = 'pg_cron') then
    perform telemetry.ensure_schedule();
  end if;
exception when others then
  raise warning 'pg_cron was created but the telemetry maintenance job was not scheduled (%); run select telemetry.ensure_schedule()', sqlerrm;
end
$$;

revoke all on function telemetry.run_maintenance(integer, integer), telemetry.ensure_schedule(),
  telemetry.schedule_on_pg_cron() from public, anon, authenticated, service_role;

-- Event triggers need a superuser, or Supabase's `postgres` (supautils). Elsewhere the migration
-- goes on without it: ensure_schedule() is then the way (docs/telemetry.md, "Retention").
do $$
begin
  if exists (select 1 from pg_event_trigger where evtname = 'streamscope_schedule_on_pg_cron') then return; end if;
  create event trigger streamscope_schedule_on_pg_cron on ddl_command_end when tag in ('CREATE EXTENSION')
    execute function telemetry.schedule_on_pg_cron();
exception when insufficient_privilege then
  raise notice 'no event trigger for pg_cron (%); after enabling pg_cron, run select telemetry.ensure_schedule()', sqlerrm;
end
$$;

-- Where pg_cron is already installed, its job (made by 20261125000303 with 30 days written into
-- it) now reads the setting.
select telemetry.ensure_schedule();
