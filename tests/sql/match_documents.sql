-- match_documents over real[] (PostgreSQL without pgvector, as in these tests; the
-- pgvector build is exercised on PGlite by tests/embed/pgvector.test.ts): cosine order,
-- document filter, dimension guard, and RLS through security invoker.
begin;
set local search_path = public, extensions;
select plan(10);

insert into document_embeddings (document_id, user_id, chunk_index, content, model, dimension, embedding) values
  ('d0000000-0000-4000-8000-000000000001', '11111111-1111-4111-8111-111111111111', 0, 'x axis', 'm', 3, array[1, 0, 0]::real[]),
  ('d0000000-0000-4000-8000-000000000001', '11111111-1111-4111-8111-111111111111', 1, 'near x', 'm', 3, array[0.9, 0.1, 0]::real[]),
  ('d0000000-0000-4000-8000-000000000001', '11111111-1111-4111-8111-111111111111', 2, 'y axis', 'm', 3, array[0, 2, 0]::real[]),
  ('d0000000-0000-4000-8000-000000000002', '11111111-1111-4111-8111-111111111111', 0, 'z axis', 'm', 3, array[0, 0, 5]::real[]),
  ('d0000000-0000-4000-8000-000000000003', '11111111-1111-4111-8111-111111111111', 0, 'other model', 'm2', 2, array[1, 0]::real[]),
  ('d0000000-0000-4000-8000-000000000004', '22222222-2222-4222-8222-222222222222', 0, 'bob x', 'm', 3, array[1, 0, 0]::real[]);

set local role authenticated;
set local "request.jwt.claims" to '{"sub":"11111111-1111-4111-8111-111111111111","role":"authenticated"}';

select results_eq($$ select content from match_documents(array[1, 0, 0]::real[], 2) $$, array['x axis', 'near x'],
  'nearest first, match_count rows');
select results_eq($$ select round(similarity::numeric, 4) from match_documents(array[2, 0, 0]::real[], 3) $$,
  array[1.0000, 0.9939, 0.0000]::numeric[], 'similarity is the cosine: 1 same direction, 0 orthogonal, length ignored');
select results_eq($$ select content from match_documents(array[0, 0, 1]::real[], 10, 'd0000000-0000-4000-8000-000000000002') $$,
  array['z axis'], 'filter_document keeps one document');
select is_empty($$ select 1 from match_documents(array[1, 0, 0]::real[], 100) where content = 'bob x' $$,
  'another user''s chunks never match (RLS, security invoker)');
select is_empty($$ select 1 from match_documents(array[1, 0, 0]::real[], 100) where content = 'other model' $$,
  'chunks of another dimension are skipped, not an error');
select results_eq($$ select content from match_documents(array[1, 0]::real[], 10) $$, array['other model'],
  'a query of that dimension finds them');
select is_empty($$ select 1 from match_documents(array[1, 0, 0]::real[], 0) $$, 'match_count 0 returns nothing');
select results_eq($$ select count(*)::int from match_documents(array[1, 0, 0]::real[], 100) $$, array[4], 'every own 3-d chunk is a candidate');

reset role;
set local role anon;
select throws_ok($$ select * from match_documents(array[1, 0, 0]::real[], 1) $$, '42501', null, 'anon cannot call match_documents');

reset role;
set local role service_role;
select results_eq($$ select count(*)::int from match_documents(array[1, 0, 0]::real[], 100) $$, array[5], 'service_role matches every user''s chunks');

select * from finish();
rollback;
