-- What the embed function needs beyond the tables of 20261125000003_chat.sql:
-- per-user document ids, one embedding per message and model, and similarity search.

-- document_id comes from the caller, so it is unique per user, not globally: two
-- users choosing the same id get two documents instead of a conflict (or a leak).
alter table public.document_embeddings drop constraint if exists document_embeddings_document_id_chunk_index_key;
alter table public.document_embeddings
  add constraint document_embeddings_user_document_chunk_key unique (user_id, document_id, chunk_index);
-- The unique index above leads with user_id and serves the old (user_id, document_id) lookups.
drop index if exists public.document_embeddings_user_idx;

-- Embedding a message again replaces its vector (upsert on this key); it also indexes
-- the foreign key, so deleting a message does not scan the table.
alter table public.message_embeddings
  add constraint message_embeddings_message_model_key unique (message_id, model);

-- pgvector's operators live in `extensions`; the API roles resolve them there when they
-- call match_documents (security invoker). Supabase grants the same.
grant usage on schema extensions to anon, authenticated, service_role;

-- match_documents(query_embedding, match_count, filter_document): the caller's chunks
-- nearest to the query by cosine similarity (1 = same direction), best first.
-- Security invoker: RLS applies, so a signed-in user only ever matches their own rows.
-- pgvector's <=> where the column is a vector; the same cosine in plain SQL over real[]
-- where it is not (no index either way: the column has no fixed dimension).
do $do$
declare
  vector_schema text := (
    select n.nspname from pg_type t join pg_namespace n on n.oid = t.typnamespace
    join pg_attribute a on a.atttypid = t.oid
    where a.attrelid = 'public.document_embeddings'::regclass and a.attname = 'embedding' and t.typname = 'vector');
begin
  if vector_schema is not null then
    execute format($f$
      create function public.match_documents(query_embedding %1$I.vector, match_count integer, filter_document uuid default null)
      returns table (id uuid, document_id uuid, chunk_index integer, content text, metadata jsonb, model text, similarity double precision)
      language sql stable security invoker set search_path = ''
      as $body$
        select d.id, d.document_id, d.chunk_index, d.content, d.metadata, d.model,
               1 - (d.embedding operator(%1$I.<=>) query_embedding) as similarity
        from public.document_embeddings d
        where d.dimension = %1$I.vector_dims(query_embedding)
          and (filter_document is null or d.document_id = filter_document)
        order by d.embedding operator(%1$I.<=>) query_embedding
        limit greatest(match_count, 0)
      $body$$f$, vector_schema);
  else
    create function public.match_documents(query_embedding real[], match_count integer, filter_document uuid default null)
    returns table (id uuid, document_id uuid, chunk_index integer, content text, metadata jsonb, model text, similarity double precision)
    language sql stable security invoker set search_path = ''
    as $body$
      select d.id, d.document_id, d.chunk_index, d.content, d.metadata, d.model, s.similarity
      from public.document_embeddings d
      cross join lateral (
        select sum(a::float8 * b::float8) / nullif(sqrt(sum(a::float8 * a::float8)) * sqrt(sum(b::float8 * b::float8)), 0) as similarity
        from unnest(d.embedding, query_embedding) as u (a, b)
      ) s
      where d.dimension = cardinality(query_embedding)
        and (filter_document is null or d.document_id = filter_document)
      order by s.similarity desc nulls last
      limit greatest(match_count, 0)
    $body$;
  end if;
end
$do$;

revoke all on function public.match_documents from public, anon;
grant execute on function public.match_documents to authenticated, service_role;
