-- The flag history names the person: beside the display name (changed_by: an e-mail
-- address, or the name typed at a shared-token login), the Supabase user id of an
-- operator signed in with their account (null for the shared token).

alter table public.feature_flags add column if not exists updated_by_user_id uuid;
alter table public.feature_flag_changes add column if not exists changed_by_user_id uuid;

-- As 20261125000101_feature_flags.sql, and a writer that names someone else without
-- a user id does not inherit the previous writer's (the id belongs to the name).
create or replace function public.touch_feature_flag() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  if tg_op = 'UPDATE' and new.updated_by is not distinct from old.updated_by then
    new.updated_by := current_user;
    new.updated_by_user_id := null;
  elsif tg_op = 'UPDATE' and new.updated_by_user_id is not distinct from old.updated_by_user_id then
    new.updated_by_user_id := null;
  end if;
  return new;
end
$$;

create or replace function public.record_feature_flag_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' then
    insert into public.feature_flag_changes (key, old_value, new_value, changed_by)
    values (old.key, old.value, null, current_user);
  elsif tg_op = 'INSERT' or new.value is distinct from old.value then
    insert into public.feature_flag_changes (key, old_value, new_value, changed_by, changed_by_user_id)
    values (new.key, case when tg_op = 'UPDATE' then old.value end, new.value, new.updated_by, new.updated_by_user_id);
  end if;
  return null;
end
$$;

-- set_feature_flag (20261125000400_dashboard_access.sql) with who asked as a person.
create or replace function telemetry.set_feature_flag(p_key text, p_value text, p_changed_by text, p_changed_by_user_id uuid)
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
  -- Clearing first makes the name always a change (see the three-argument version).
  update public.feature_flags f set updated_by = '', updated_by_user_id = null where f.key = p_key;
  return query
    update public.feature_flags f
       set value = p_value, updated_by = left(btrim(p_changed_by), 100), updated_by_user_id = p_changed_by_user_id
     where f.key = p_key
    returning f.key, f.value, f.updated_at, f.updated_by;
  if not found then
    raise exception 'flag % does not exist', p_key using errcode = '22023';
  end if;
end
$$;
revoke all on function telemetry.set_feature_flag(text, text, text, uuid) from public;
grant execute on function telemetry.set_feature_flag(text, text, text, uuid) to streamscope_dashboard;
