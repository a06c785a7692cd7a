-- Catalog-wide rules, checked against whatever the migrations created, so a table
-- or function added later by any migration is held to them without editing this file.
-- Client roles are `anon` and `authenticated`; service_role and the owner are not clients.
begin;
set local search_path = public, extensions;
select plan(12);

select is_empty($$
  select c.relname::text from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relrowsecurity
$$, 'every table in public has row level security on');

-- One row per (role, relation, privilege) a client role holds on anything in public
-- or telemetry, table-wide or on any column.
create temp view client_privileges as
  select r.role, n.nspname as schema, c.relname as relation, p.priv
  from pg_class c
  join pg_namespace n on n.oid = c.relnamespace
  cross join (values ('anon'), ('authenticated')) as r (role)
  cross join unnest(array['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE', 'REFERENCES', 'TRIGGER']) as p (priv)
  where n.nspname in ('public', 'telemetry') and c.relkind in ('r', 'p', 'v', 'm', 'f')
    and case when p.priv in ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
             then has_any_column_privilege(r.role, c.oid, p.priv)
             else has_table_privilege(r.role, c.oid, p.priv) end;

select is_empty($$ select schema || '.' || relation || ': ' || priv from client_privileges where role = 'anon' $$,
  'anon holds no privilege on any table or view in public or telemetry');

select is_empty($$
  select schema || '.' || relation || ': ' || priv from client_privileges
  where role = 'authenticated'
    and not (priv = 'SELECT' and schema = 'public' and relation in ('messages', 'message_embeddings', 'document_embeddings'))
$$, 'authenticated holds only SELECT, and only on messages, message_embeddings and document_embeddings');

select set_eq($$ select relation::text from client_privileges where role = 'authenticated' $$,
  array['messages', 'message_embeddings', 'document_embeddings'],
  'authenticated can read the three user tables');

select is_empty($$
  select n.nspname || '.' || c.relname || ' by ' || r.role
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  cross join (values ('anon'), ('authenticated')) as r (role)
  where n.nspname in ('public', 'telemetry') and c.relkind = 'S'
    and has_sequence_privilege(r.role, c.oid, 'USAGE,SELECT,UPDATE')
$$, 'no client role can use a sequence in public or telemetry');

select ok(not has_schema_privilege('anon', 'telemetry', 'USAGE') and not has_schema_privilege('authenticated', 'telemetry', 'USAGE'),
  'client roles cannot even resolve names in the telemetry schema');

-- Functions in public are RPC endpoints on Supabase: only match_documents is meant for clients.
select is_empty($$
  select p.oid::regprocedure::text || ' by ' || r.role
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  cross join (values ('anon'), ('authenticated')) as r (role)
  left join pg_depend d on d.objid = p.oid and d.deptype = 'e'
  where n.nspname = 'public' and d.objid is null
    and has_function_privilege(r.role, p.oid, 'EXECUTE')
    and not (r.role = 'authenticated' and p.proname = 'match_documents')
$$, 'client roles can execute no function in public but match_documents (authenticated only)');

select is_empty($$
  select p.oid::regprocedure::text
  from pg_proc p join pg_namespace n on n.oid = p.pronamespace
  left join pg_depend d on d.objid = p.oid and d.deptype = 'e'
  where n.nspname = 'public' and d.objid is null and p.prokind in ('f', 'p')
    and not exists (select 1 from unnest(coalesce(p.proconfig, '{}')) as c where c like 'search_path=%')
$$, 'every function in public pins its search_path (lint function_search_path_mutable)');

select is_empty($$
  select schemaname || '.' || tablename || '.' || policyname from pg_policies
  where schemaname = 'public' and cmd <> 'SELECT'
    and roles && array['public', 'anon', 'authenticated']::name[]
$$, 'no policy lets a client role write');

select is_empty($$
  select schemaname || '.' || tablename || '.' || policyname from pg_policies
  where schemaname = 'public' and roles && array['public', 'anon', 'authenticated']::name[]
    and coalesce(qual, '') !~ 'auth\.uid\(\)'
$$, 'every policy a client role gets is keyed on auth.uid()');

-- `( SELECT auth.uid() AS uid)` is how PostgreSQL prints `(select auth.uid())`.
select is_empty($$
  select schemaname || '.' || tablename || '.' || policyname from pg_policies
  where schemaname = 'public'
    and regexp_replace(coalesce(qual, '') || ' ' || coalesce(with_check, ''),
                       '\(\s*SELECT\s+auth\.uid\(\)(\s+AS\s+uid)?\s*\)', '', 'gi') ~ 'auth\.uid\(\)'
$$, 'policies call auth.uid() as (select auth.uid()), once per statement (lint auth_rls_initplan)');

select policy_roles_are('public', 'messages', 'messages_read_own', array['authenticated'], 'messages_read_own is for authenticated only');

select * from finish();
rollback;
