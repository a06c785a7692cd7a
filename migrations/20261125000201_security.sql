-- Who may touch what (docs/security.md has the full matrix; tests/sql proves it).
--
-- Clients reach the database through Supabase's API as `anon` (no session) or
-- `authenticated` (a user's JWT). The functions connect with SUPABASE_DB_URL as
-- `postgres`, the owner of every table: RLS does not apply to a table's owner (no
-- FORCE ROW LEVEL SECURITY here), so policies only ever describe what clients see,
-- and no policy grants a client any write. `service_role` (the service key) has
-- BYPASSRLS and explicit grants on the tables the functions write, for admin tools.

-- Supabase grants every table, sequence and function that `postgres` creates in
-- `public` to the API roles by default; only explicit revokes and RLS keep clients
-- out. Plain PostgreSQL and PGlite do not, so a forgotten revoke would pass every
-- local test and ship open. Do the same here (and only here: Supabase has it).
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'supabase_admin') then
    alter default privileges in schema public grant all on tables to anon, authenticated, service_role;
    alter default privileges in schema public grant all on sequences to anon, authenticated, service_role;
    alter default privileges in schema public grant all on functions to anon, authenticated, service_role;
  end if;
end
$$;

-- Telemetry is written by the functions (as owner) and read by the dashboard's server
-- (as owner); no client role has any business there, not even to resolve a name.
revoke all on schema telemetry from public, anon, authenticated, service_role;
revoke all on all tables in schema telemetry from public, anon, authenticated, service_role;
revoke all on all functions in schema telemetry from public, anon, authenticated, service_role;

-- User data: RLS on, read-own for signed-in users, nothing for anon, writes only by
-- the owner and service_role (20261125000003_chat.sql set these; restated so this file
-- alone is the reviewable statement of the policy).
alter table public.messages enable row level security;
alter table public.message_embeddings enable row level security;
alter table public.document_embeddings enable row level security;
revoke all on public.messages, public.message_embeddings, public.document_embeddings from public, anon, authenticated;
grant select on public.messages, public.message_embeddings, public.document_embeddings to authenticated;
grant all on public.messages, public.message_embeddings, public.document_embeddings to service_role;
