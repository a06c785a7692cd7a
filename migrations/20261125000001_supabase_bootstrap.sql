-- Supabase provides these roles, the auth schema and auth.uid(); a plain PostgreSQL
-- (the test cluster) or PGlite does not. Create only what is missing so the same file
-- is a no-op on Supabase and never replaces its own definitions.
do $$
begin
  if not exists (select 1 from pg_roles where rolname = 'anon') then
    create role anon nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'authenticated') then
    create role authenticated nologin noinherit;
  end if;
  if not exists (select 1 from pg_roles where rolname = 'service_role') then
    create role service_role nologin noinherit bypassrls;
  end if;
end
$$;

create schema if not exists auth;
create schema if not exists extensions;
grant usage on schema auth to anon, authenticated, service_role;

do $$
begin
  if not exists (
    select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'auth' and p.proname = 'uid'
  ) then
    -- Same contract as Supabase's: the caller's `sub` claim from request.jwt.claims.
    execute $f$
      create function auth.uid() returns uuid language sql stable as $body$
        select nullif(
          coalesce(
            current_setting('request.jwt.claim.sub', true),
            current_setting('request.jwt.claims', true)::jsonb ->> 'sub'
          ), ''
        )::uuid
      $body$
    $f$;
  end if;
end
$$;

-- pgvector where the server has it (Supabase, PGlite). Debian's PostgreSQL 15 does not:
-- there embeddings fall back to real[] (see 20261125000003_chat.sql).
do $$
begin
  if exists (select 1 from pg_available_extensions where name = 'vector') then
    create extension if not exists vector with schema extensions;
  end if;
end
$$;
