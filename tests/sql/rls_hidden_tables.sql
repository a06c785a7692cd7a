-- Everything that is not a user table is invisible to clients: telemetry, rate limits,
-- feature flags and whatever later migrations add. The list comes from the catalog, so
-- a new table is covered the day it is created.
begin;
set local search_path = public, extensions;
select * from no_plan();

create temp table hidden as
  select format('%I.%I', n.nspname, c.relname) as name
  from pg_class c join pg_namespace n on n.oid = c.relnamespace
  where (n.nspname = 'telemetry' or (n.nspname = 'public' and c.relname not in ('messages', 'message_embeddings', 'document_embeddings')))
    and c.relkind in ('r', 'p', 'v', 'm', 'f');
grant select on hidden to public;

select cmp_ok((select count(*)::int from hidden), '>=', 5, 'the hidden set holds telemetry.spans, telemetry.logs, rate_limits, feature_flags, …');

set local role authenticated;
set local "request.jwt.claims" to '{"sub":"11111111-1111-4111-8111-111111111111","role":"authenticated"}';
select throws_ok(format('select 1 from %s limit 1', name), '42501', null, format('authenticated cannot read %s', name)) from hidden order by name;
select throws_ok(format('delete from %s', name), '42501', null, format('authenticated cannot delete from %s', name)) from hidden order by name;

reset role;
set local role anon;
set local "request.jwt.claims" to '{"role":"anon"}';
select throws_ok(format('select 1 from %s limit 1', name), '42501', null, format('anon cannot read %s', name)) from hidden order by name;

reset role;
set local role authenticated;
set local "request.jwt.claims" to '{"sub":"11111111-1111-4111-8111-111111111111","role":"authenticated"}';
select throws_ok($$ select * from public.check_rate_limit('11111111-1111-4111-8111-111111111111', 1, 1, 1) $$, '42501', null,
  'authenticated cannot call check_rate_limit (it would spend anyone''s budget)');
select throws_ok($$ select telemetry.ensure_partitions(current_date, current_date) $$, '42501', null,
  'authenticated cannot call telemetry functions');

select * from finish();
rollback;
