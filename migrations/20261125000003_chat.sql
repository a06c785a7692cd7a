-- Conversation and embedding tables. Clients read their own rows; only the
-- functions (service_role, or the table owner they connect as) write.
create table public.messages (
  id             uuid primary key default gen_random_uuid(),
  session_id     uuid not null,
  user_id        uuid not null,
  role           text not null check (role in ('system', 'user', 'assistant')),
  content        text not null,
  -- complete: whole answer; cut: client went away mid-stream; error: provider failed mid-stream
  status         text not null default 'complete' check (status in ('complete', 'cut', 'error')),
  model          text,
  finish_reason  text,
  input_tokens   integer,
  output_tokens  integer,
  trace_id       text,
  created_at     timestamptz not null default now()
);
create index messages_session_idx on public.messages (session_id, created_at);
create index messages_user_idx on public.messages (user_id, created_at desc);
create index messages_trace_idx on public.messages (trace_id);

-- The embedding column is pgvector's `vector` where the extension exists and a
-- plain real[] where it does not (Debian's PostgreSQL 15 in tests). Both hold the
-- same numbers; only the vector build supports ANN indexes and the <=> operator.
do $$
declare
  emb text := case when exists (select 1 from pg_extension where extname = 'vector')
                   then 'extensions.vector' else 'real[]' end;
begin
  execute format($t$
    create table public.message_embeddings (
      id          uuid primary key default gen_random_uuid(),
      message_id  uuid not null references public.messages (id) on delete cascade,
      user_id     uuid not null,
      model       text not null,
      dimension   integer not null,
      embedding   %s not null,
      trace_id    text,
      created_at  timestamptz not null default now()
    )$t$, emb);
  execute format($t$
    create table public.document_embeddings (
      id           uuid primary key default gen_random_uuid(),
      document_id  uuid not null,
      user_id      uuid not null,
      chunk_index  integer not null,
      content      text not null,
      metadata     jsonb not null default '{}'::jsonb,
      model        text not null,
      dimension    integer not null,
      embedding    %s not null,
      trace_id     text,
      created_at   timestamptz not null default now(),
      unique (document_id, chunk_index)
    )$t$, emb);
end
$$;
create index message_embeddings_user_idx on public.message_embeddings (user_id);
create index document_embeddings_user_idx on public.document_embeddings (user_id, document_id);

alter table public.messages enable row level security;
alter table public.message_embeddings enable row level security;
alter table public.document_embeddings enable row level security;

create policy messages_read_own on public.messages
  for select to authenticated using (user_id = (select auth.uid()));
create policy message_embeddings_read_own on public.message_embeddings
  for select to authenticated using (user_id = (select auth.uid()));
create policy document_embeddings_read_own on public.document_embeddings
  for select to authenticated using (user_id = (select auth.uid()));

revoke all on public.messages, public.message_embeddings, public.document_embeddings from anon, authenticated;
grant select on public.messages, public.message_embeddings, public.document_embeddings to authenticated;
grant all on public.messages, public.message_embeddings, public.document_embeddings to service_role;
