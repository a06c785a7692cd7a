-- Runtime switches the operators flip from the dashboard, with a history of who
-- changed what and when (kept by a trigger, so no writer can forget it).
create table public.feature_flags (
  key         text primary key,
  value       text not null,
  updated_at  timestamptz not null default now(),
  updated_by  text not null default current_user,
  -- The backout switch of the chat transport: a typo must not reach the functions.
  constraint chat_transport_value check (key <> 'chat_transport' or value in ('sse', 'http'))
);

create table public.feature_flag_changes (
  id          bigint generated always as identity primary key,
  key         text not null,
  old_value   text,
  new_value   text,
  changed_by  text not null,
  changed_at  timestamptz not null default now()
);
create index feature_flag_changes_key_idx on public.feature_flag_changes (key, changed_at desc);

create function public.touch_feature_flag() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  new.updated_at := now();
  -- A writer that does not say who it is is recorded as the database role it used.
  if tg_op = 'UPDATE' and new.updated_by is not distinct from old.updated_by then
    new.updated_by := current_user;
  end if;
  return new;
end
$$;

create function public.record_feature_flag_change() returns trigger
language plpgsql
set search_path = ''
as $$
begin
  if tg_op = 'DELETE' then
    insert into public.feature_flag_changes (key, old_value, new_value, changed_by)
    values (old.key, old.value, null, current_user);
  elsif tg_op = 'INSERT' or new.value is distinct from old.value then
    insert into public.feature_flag_changes (key, old_value, new_value, changed_by)
    values (new.key, case when tg_op = 'UPDATE' then old.value end, new.value, new.updated_by);
  end if;
  return null;
end
$$;

create trigger feature_flags_touch before update on public.feature_flags
  for each row execute function public.touch_feature_flag();
create trigger feature_flags_history after insert or update or delete on public.feature_flags
  for each row execute function public.record_feature_flag_change();

-- Invisible to clients: RLS on with no policy, and no grants.
alter table public.feature_flags enable row level security;
alter table public.feature_flag_changes enable row level security;
revoke all on public.feature_flags, public.feature_flag_changes from public, anon, authenticated;
grant all on public.feature_flags, public.feature_flag_changes to service_role;
revoke all on function public.touch_feature_flag(), public.record_feature_flag_change() from public, anon, authenticated;

insert into public.feature_flags (key, value, updated_by) values ('chat_transport', 'sse', 'migration');
