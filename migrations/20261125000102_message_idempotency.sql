-- A client that lost a connection before the response headers cannot know whether the
-- question arrived; it asks again with the same Idempotency-Key. The key makes the second
-- arrival find the first instead of storing the question twice.
alter table public.messages add column idempotency_key text;
create unique index messages_idempotency_idx on public.messages (user_id, idempotency_key)
  where idempotency_key is not null;
