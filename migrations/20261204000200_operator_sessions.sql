-- Who may use the dashboard (docs/security.md, "Dashboard operators").
--
-- operator_accounts: the allow-list of Supabase users, managed by SQL. A row names a
-- user by id or by e-mail address and gives them a role: `viewer` reads everything,
-- `operator` also switches the chat transport and edits alert rules. A role in the
-- user's app_metadata (streamscope_role) works without a row; a row wins over it.
--
-- operator_sessions: one row per dashboard sign-in, so that several dashboard
-- processes on one database agree on who is signed in, and a session can end before
-- its expiry: logout deletes its row, a change to someone's allow-list row deletes
-- theirs, and a session opened under another OPERATOR_TOKEN (another `epoch`) is no
-- session. The cookie holds a random id; only its SHA-256 is stored here.
--
-- The dashboard reaches both only through the security-definer functions below, as
-- the streamscope_dashboard role (20261125000400_dashboard_access.sql).

create table telemetry.operator_accounts (
  id          bigint generated always as identity primary key,
  user_id     uuid,
  email       text,
  role        text not null,
  note        text,
  created_at  timestamptz not null default now(),
  constraint operator_accounts_role check (role in ('viewer', 'operator')),
  constraint operator_accounts_who check (user_id is not null or nullif(btrim(email), '') is not null)
);
create unique index operator_accounts_user_idx on telemetry.operator_accounts (user_id) where user_id is not null;
create unique index operator_accounts_email_idx on telemetry.operator_accounts (lower(btrim(email))) where email is not null;

create table telemetry.operator_sessions (
  id_hash     bytea primary key,
  -- Derived from OPERATOR_TOKEN (an HMAC keyed with it, never the token): rotating the
  -- token changes it, which ends every session at once.
  epoch       text not null,
  name        text not null,
  role        text not null,
  user_id     uuid,
  email       text,
  created_at  timestamptz not null default now(),
  expires_at  timestamptz not null,
  constraint operator_sessions_role check (role in ('viewer', 'operator')),
  constraint operator_sessions_id_hash check (octet_length(id_hash) = 32)
);
create index operator_sessions_user_idx on telemetry.operator_sessions (user_id) where user_id is not null;
create index operator_sessions_email_idx on telemetry.operator_sessions (lower(email)) where email is not null;
create index operator_sessions_expires_idx on telemetry.operator_sessions (expires_at);

-- The telemetry schema's default privileges give the dashboard role SELECT on new
-- tables; these two are reached through the functions only.
revoke all on telemetry.operator_accounts, telemetry.operator_sessions
  from public, anon, authenticated, service_role, streamscope_dashboard;

-- Taking someone off the allow-list, or changing their role, ends their sessions (they
-- sign in again and get the new role).
create function telemetry.end_operator_account_sessions() returns trigger
language plpgsql
security definer
set search_path = ''
as $$
begin
  if tg_op = 'UPDATE' and new.role is not distinct from old.role
     and new.user_id is not distinct from old.user_id and new.email is not distinct from old.email then
    return null;
  end if;
  delete from telemetry.operator_sessions s
   where (old.user_id is not null and s.user_id = old.user_id)
      or (nullif(btrim(old.email), '') is not null and lower(s.email) = lower(btrim(old.email)));
  return null;
end
$$;
create trigger operator_accounts_end_sessions after update or delete on telemetry.operator_accounts
  for each row execute function telemetry.end_operator_account_sessions();

-- The allow-list's word on a user: their row by id, else by e-mail address; null = none.
create function telemetry.operator_account_role(p_user_id uuid, p_email text)
returns text
language sql
stable
security definer
set search_path = ''
as $$
  select a.role from telemetry.operator_accounts a
   where (p_user_id is not null and a.user_id = p_user_id)
      or (nullif(btrim(p_email), '') is not null and a.email is not null and lower(btrim(a.email)) = lower(btrim(p_email)))
   order by (a.user_id is not distinct from p_user_id) desc
   limit 1
$$;

create function telemetry.open_operator_session(
  p_id_hash bytea, p_epoch text, p_name text, p_role text, p_user_id uuid, p_email text, p_ttl_seconds integer
)
returns timestamptz
language plpgsql
security definer
set search_path = ''
as $$
declare
  v_expires timestamptz;
begin
  if p_id_hash is null or octet_length(p_id_hash) <> 32 then
    raise exception 'a session id hash is 32 bytes' using errcode = '22023';
  end if;
  if coalesce(btrim(p_name), '') = '' then
    raise exception 'a session needs a name' using errcode = '22023';
  end if;
  if p_ttl_seconds is null or p_ttl_seconds < 60 or p_ttl_seconds > 7 * 86400 then
    raise exception 'session lifetime must be 60 s to 7 days, got %', p_ttl_seconds using errcode = '22023';
  end if;
  -- Expired rows go as new ones come: the table holds about one row per signed-in person.
  delete from telemetry.operator_sessions where expires_at < now();
  insert into telemetry.operator_sessions (id_hash, epoch, name, role, user_id, email, expires_at)
  values (p_id_hash, coalesce(p_epoch, ''), left(btrim(p_name), 100), p_role, p_user_id, nullif(btrim(p_email), ''),
          now() + make_interval(secs => p_ttl_seconds))
  returning expires_at into v_expires;
  return v_expires;
end
$$;

create function telemetry.operator_session(p_id_hash bytea, p_epoch text)
returns table (name text, role text, user_id uuid, email text, expires_at timestamptz)
language sql
stable
security definer
set search_path = ''
as $$
  select s.name, s.role, s.user_id, s.email, s.expires_at
    from telemetry.operator_sessions s
   where s.id_hash = p_id_hash and s.epoch = p_epoch and s.expires_at > now()
$$;

create function telemetry.close_operator_session(p_id_hash bytea)
returns boolean
language sql
security definer
set search_path = ''
as $$
  with gone as (delete from telemetry.operator_sessions s where s.id_hash = p_id_hash returning 1)
  select exists (select 1 from gone)
$$;

revoke all on function telemetry.end_operator_account_sessions(), telemetry.operator_account_role(uuid, text),
  telemetry.open_operator_session(bytea, text, text, text, uuid, text, integer),
  telemetry.operator_session(bytea, text), telemetry.close_operator_session(bytea) from public;
grant execute on function telemetry.operator_account_role(uuid, text),
  telemetry.open_operator_session(bytea, text, text, text, uuid, text, integer),
  telemetry.operator_session(bytea, text), telemetry.close_operator_session(bytea) to streamscope_dashboard;
