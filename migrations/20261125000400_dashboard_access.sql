-- The dashboard reads telemetry, messages and flags, and writes one thing: the
-- chat_transport flag, through telemetry.set_feature_flag. It does so as the
-- read-only role below (`set local role streamscope_dashboard` in every
-- transaction it opens), whatever user the server connects as, so a bug or an
-- injection in a page cannot change telemetry or conversations.

do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'streamscope_dashboard') then
    create role streamscope_dashboard nologin;
  end if;
end
$$;

-- The connecting user must be a member to `set role`. A superuser already may; a
-- non-superuser that created the role is made a member here (PostgreSQL 16 only
-- grants the creator ADMIN, not membership).
do $$
begin
  if not (select rolsuper from pg_roles where rolname = current_user) then
    execute format('grant streamscope_dashboard to %I', current_user);
  end if;
exception when others then
  raise notice 'could not grant streamscope_dashboard to %: %', current_user, sqlerrm;
end
$$;

grant usage on schema telemetry to streamscope_dashboard;
grant select on all tables in schema telemetry to streamscope_dashboard;
-- Tables the telemetry migrations add later (same owner) are readable too.
alter default privileges in schema telemetry grant select on tables to streamscope_dashboard;

grant usage on schema public to streamscope_dashboard;
grant select on public.messages to streamscope_dashboard;
-- messages has row level security: the dashboard sees every row (a message id
-- pasted into the lookup box may belong to anyone).
drop policy if exists messages_dashboard_read on public.messages;
create policy messages_dashboard_read on public.messages for select to streamscope_dashboard using (true);

-- The flags and their history (20261125000101_feature_flags.sql) have RLS on and no
-- policy: the dashboard gets a read policy of its own.
grant select on public.feature_flags, public.feature_flag_changes to streamscope_dashboard;
drop policy if exists feature_flags_dashboard_read on public.feature_flags;
create policy feature_flags_dashboard_read on public.feature_flags for select to streamscope_dashboard using (true);
drop policy if exists feature_flag_changes_dashboard_read on public.feature_flag_changes;
create policy feature_flag_changes_dashboard_read on public.feature_flag_changes for select to streamscope_dashboard using (true);

-- The read-side helpers of the rollups (20261125000302): 20261125000201 revokes every
-- telemetry function from PUBLIC, so name the ones the dashboard calls.
grant execute on function telemetry.hist_bounds(), telemetry.hist_add(integer[], integer[]),
  telemetry.hist_sum(integer[]), telemetry.hist_quantile(integer[], double precision),
  telemetry.request_status(smallint, text, text) to streamscope_dashboard;

-- The one write the dashboard may do. Runs as the owner of the flags table; only
-- known flags and values pass, and who asked is recorded (the history trigger on
-- feature_flags copies updated_by into feature_flag_changes.changed_by).
create or replace function telemetry.set_feature_flag(p_key text, p_value text, p_changed_by text)
returns table (key text, value text, updated_at timestamptz, updated_by text)
language plpgsql
security definer
set search_path = pg_catalog, public
as $$
#variable_conflict use_column
begin
  if p_key is distinct from 'chat_transport' then
    raise exception 'unknown flag %', p_key using errcode = '22023';
  end if;
  if p_value is null or p_value not in ('sse', 'http') then
    raise exception 'chat_transport must be sse or http, got %', p_value using errcode = '22023';
  end if;
  if coalesce(btrim(p_changed_by), '') = '' then
    raise exception 'changed_by is required' using errcode = '22023';
  end if;
  -- feature_flags_touch replaces an unchanged updated_by with current_user (here: this
  -- function's owner), so the same operator switching twice in a row would be recorded
  -- as the owner. Clearing it first makes the name always a change; the history trigger
  -- fires on value changes only, so the first step leaves no history row.
  update public.feature_flags f set updated_by = '' where f.key = p_key;
  return query
    update public.feature_flags f
       set value = p_value, updated_by = left(btrim(p_changed_by), 100)
     where f.key = p_key
    returning f.key, f.value, f.updated_at, f.updated_by;
  if not found then
    raise exception 'flag % does not exist', p_key using errcode = '22023';
  end if;
end
$$;
revoke all on function telemetry.set_feature_flag(text, text, text) from public;
grant execute on function telemetry.set_feature_flag(text, text, text) to streamscope_dashboard;

-- Streams explorer and recent streams: request spans in time order (keyset on
-- start_time, span_id). INCLUDE makes the spend page's top sessions an
-- index-only scan (see docs/dashboard.md: a raw-span read).
create index if not exists spans_requests_time_idx on telemetry.spans (start_time, span_id)
  include (session_id, user_id, cost_usd, input_tokens, output_tokens)
  where kind = 'server' and function is not null;
-- The explorer filtered by user.
create index if not exists spans_requests_user_idx on telemetry.spans (user_id, start_time)
  where kind = 'server' and function is not null;
-- Overview and spend filtered by user, over long ranges.
create index if not exists rollup_minute_user_idx on telemetry.rollup_minute (user_id, bucket)
  where user_id <> '';
