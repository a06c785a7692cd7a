-- The user tables row by row, as each API role: a signed-in user reads their own
-- messages and embeddings and nothing else, writes nothing; anon reads nothing;
-- service_role reads and writes everything.
begin;
set local search_path = public, extensions;
select plan(34);

-- Alice (1111…) and Bob (2222…), written as the owner, as the functions do.
insert into messages (id, session_id, user_id, role, content) values
  ('a0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000001', '11111111-1111-4111-8111-111111111111', 'user', 'alice 1'),
  ('a0000000-0000-4000-8000-000000000002', 'c0000000-0000-4000-8000-000000000001', '11111111-1111-4111-8111-111111111111', 'assistant', 'alice 2'),
  ('b0000000-0000-4000-8000-000000000001', 'c0000000-0000-4000-8000-000000000002', '22222222-2222-4222-8222-222222222222', 'user', 'bob 1');
insert into message_embeddings (message_id, user_id, model, dimension, embedding) values
  ('a0000000-0000-4000-8000-000000000001', '11111111-1111-4111-8111-111111111111', 'm', 3, array[1, 0, 0]::real[]),
  ('b0000000-0000-4000-8000-000000000001', '22222222-2222-4222-8222-222222222222', 'm', 3, array[0, 1, 0]::real[]);
insert into document_embeddings (document_id, user_id, chunk_index, content, model, dimension, embedding) values
  ('d0000000-0000-4000-8000-00000000000a', '11111111-1111-4111-8111-111111111111', 0, 'alice doc', 'm', 3, array[1, 0, 0]::real[]),
  ('d0000000-0000-4000-8000-00000000000b', '22222222-2222-4222-8222-222222222222', 0, 'bob doc', 'm', 3, array[0, 1, 0]::real[]);

-- Alice
set local role authenticated;
set local "request.jwt.claims" to '{"sub":"11111111-1111-4111-8111-111111111111","role":"authenticated"}';
select results_eq($$ select content from messages order by content $$, array['alice 1', 'alice 2'], 'alice reads her own messages');
select results_eq($$ select message_id::text from message_embeddings $$, array['a0000000-0000-4000-8000-000000000001'], 'alice reads her own message embeddings');
select results_eq($$ select content from document_embeddings $$, array['alice doc'], 'alice reads her own document chunks');
select is_empty($$ select 1 from messages where user_id <> '11111111-1111-4111-8111-111111111111' $$, 'alice sees no one else''s messages, even by asking');
select is_empty($$ select 1 from messages where id = 'b0000000-0000-4000-8000-000000000001' $$, 'bob''s message is invisible to alice by id');

select throws_ok($$ insert into messages (session_id, user_id, role, content)
                    values ('c0000000-0000-4000-8000-000000000001', '11111111-1111-4111-8111-111111111111', 'user', 'forged') $$,
  '42501', null, 'alice cannot insert a message, not even as herself');
select throws_ok($$ insert into message_embeddings (message_id, user_id, model, dimension, embedding)
                    values ('a0000000-0000-4000-8000-000000000002', '11111111-1111-4111-8111-111111111111', 'm', 3, array[0, 0, 1]::real[]) $$,
  '42501', null, 'alice cannot insert a message embedding');
select throws_ok($$ insert into document_embeddings (document_id, user_id, chunk_index, content, model, dimension, embedding)
                    values (gen_random_uuid(), '11111111-1111-4111-8111-111111111111', 0, 'x', 'm', 3, array[0, 0, 1]::real[]) $$,
  '42501', null, 'alice cannot insert a document chunk');
select throws_ok(format('update %I set user_id = user_id', t), '42501', null, format('alice cannot update %s', t))
  from unnest(array['messages', 'message_embeddings', 'document_embeddings']) as t;
select throws_ok(format('delete from %I', t), '42501', null, format('alice cannot delete from %s', t))
  from unnest(array['messages', 'message_embeddings', 'document_embeddings']) as t;
select throws_ok(format('truncate %I cascade', t), '42501', null, format('alice cannot truncate %s', t))
  from unnest(array['messages', 'message_embeddings', 'document_embeddings']) as t;

-- Bob
set local "request.jwt.claims" to '{"sub":"22222222-2222-4222-8222-222222222222","role":"authenticated"}';
select results_eq($$ select content from messages $$, array['bob 1'], 'bob reads only his message');
select results_eq($$ select content from document_embeddings $$, array['bob doc'], 'bob reads only his document chunk');

-- A token without a sub
set local "request.jwt.claims" to '{"role":"authenticated"}';
select is_empty($$ select 1 from messages $$, 'authenticated without a sub sees no message');
select is_empty($$ select 1 from document_embeddings $$, 'authenticated without a sub sees no chunk');

-- anon
reset role;
set local role anon;
set local "request.jwt.claims" to '{"role":"anon"}';
select throws_ok(format('select 1 from %I', t), '42501', null, format('anon cannot read %s', t))
  from unnest(array['messages', 'message_embeddings', 'document_embeddings']) as t;
select throws_ok($$ insert into messages (session_id, user_id, role, content)
                    values (gen_random_uuid(), '11111111-1111-4111-8111-111111111111', 'user', 'x') $$,
  '42501', null, 'anon cannot insert a message');

-- service_role (the service key): every row, every write.
reset role;
set local role service_role;
set local "request.jwt.claims" to '{"role":"service_role"}';
select results_eq($$ select count(*)::int from messages $$, array[3], 'service_role reads every message (BYPASSRLS)');
select lives_ok($$ insert into messages (session_id, user_id, role, content)
                   values ('c0000000-0000-4000-8000-000000000002', '22222222-2222-4222-8222-222222222222', 'assistant', 'bob 2') $$,
  'service_role inserts a message');
select lives_ok($$ insert into message_embeddings (message_id, user_id, model, dimension, embedding)
                   values ('a0000000-0000-4000-8000-000000000002', '11111111-1111-4111-8111-111111111111', 'm', 3, array[0, 0, 1]::real[]) $$,
  'service_role inserts a message embedding');
select lives_ok($$ insert into document_embeddings (document_id, user_id, chunk_index, content, model, dimension, embedding)
                   values ('d0000000-0000-4000-8000-00000000000a', '11111111-1111-4111-8111-111111111111', 1, 'alice doc 2', 'm', 3, array[0, 0, 1]::real[]) $$,
  'service_role inserts a document chunk');
select lives_ok($$ update messages set content = 'bob one' where content = 'bob 1' $$, 'service_role updates a message');
select lives_ok($$ delete from document_embeddings where content = 'bob doc' $$, 'service_role deletes a document chunk');
select lives_ok($$ delete from message_embeddings where message_id = 'b0000000-0000-4000-8000-000000000001' $$, 'service_role deletes a message embedding');
select lives_ok($$ delete from messages where content = 'bob 2' $$, 'service_role deletes a message');
select results_eq($$ select content from messages order by content $$, array['alice 1', 'alice 2', 'bob one'], 'service_role''s writes took effect');

select * from finish();
rollback;
