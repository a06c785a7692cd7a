-- The streams explorer's incident filters and full-text search, and its saved views
-- (docs/dashboard.md, "Streams explorer").

-- A resume is a request span of its own, on the resumed stream's trace and a child of the
-- stream's request span, carrying the seq it resumed from (functions/chat/resume.ts). Rare
-- rows: the explorer counts a page's resumes and filters resumed streams through this.
create index if not exists spans_resumes_idx on telemetry.spans (trace_id, parent_span_id)
  where kind = 'server' and attributes ? 'streamscope.resume.from_seq';

-- What the search sees of a provider span: the words of the turn's prompt (the last input
-- message) and of its answer, as stored, so after redaction, and only when content capture
-- recorded them (gen_ai.input.messages / gen_ai.output.messages, functions/chat/capture.ts:
-- JSON arrays of messages made of parts). Only the text parts, so that the JSON's own words
-- ("role", "text", "stop") match nothing. A value that is not such JSON is searched as it is,
-- rather than failing the span's insert; a tsvector has a size limit, so a very long turn is
-- searched on its beginning.
create function telemetry.captured_tsvector(attributes jsonb)
returns tsvector
language plpgsql
immutable
-- not parallel safe: the exception block is a subtransaction
set search_path = ''
as $$
declare
  words text;
begin
  begin
    select string_agg(part #>> '{}', ' ') into words
    from (
      select pg_catalog.jsonb_path_query((attributes ->> 'gen_ai.input.messages')::jsonb, '$[last].parts[*].content')
      union all
      select pg_catalog.jsonb_path_query((attributes ->> 'gen_ai.output.messages')::jsonb, '$[*].parts[*].content')
    ) as parts (part);
  exception when others then
    words := concat_ws(' ', attributes ->> 'gen_ai.input.messages', attributes ->> 'gen_ai.output.messages');
  end;
  return pg_catalog.to_tsvector('pg_catalog.simple', left(coalesce(words, ''), 200000));
end
$$;

-- An operator's search as a query of the same configuration: web-search syntax (words,
-- "a phrase", or, -word), which never fails to parse.
create function telemetry.content_query(q text)
returns tsquery
language sql
immutable
parallel safe
set search_path = ''
as $$
  select pg_catalog.websearch_to_tsquery('pg_catalog.simple', q)
$$;

create index if not exists spans_captured_content_idx on telemetry.spans
  using gin (telemetry.captured_tsvector(attributes))
  where attributes ? 'gen_ai.output.messages';

-- Saved views: a name for an explorer query string, shared by every operator. The dashboard's
-- role reads them (the read policy) and writes them only through the two functions below,
-- which check what they store; clients have nothing here, as everywhere in telemetry.
create table telemetry.saved_views (
  id          bigint generated always as identity primary key,
  name        text not null,
  query       text not null,
  saved_by    text not null,
  saved_at    timestamptz not null default now(),
  constraint saved_views_name check (name = btrim(name) and char_length(name) between 1 and 100),
  constraint saved_views_query check (char_length(query) <= 2000 and query !~ '^\?'),
  constraint saved_views_saved_by check (char_length(btrim(saved_by)) between 1 and 100)
);
create unique index saved_views_name_idx on telemetry.saved_views (lower(name));

alter table telemetry.saved_views enable row level security;
revoke all on telemetry.saved_views from public, anon, authenticated, service_role;
grant select on telemetry.saved_views to streamscope_dashboard;
create policy saved_views_dashboard_read on telemetry.saved_views for select to streamscope_dashboard using (true);

-- A name already taken (in any case) is that view, saved again with this query.
create function telemetry.save_view(p_name text, p_query text, p_saved_by text)
returns setof telemetry.saved_views
language sql
security definer
set search_path = ''
as $$
  insert into telemetry.saved_views as v (name, query, saved_by)
  values (btrim(p_name), p_query, left(btrim(p_saved_by), 100))
  on conflict ((lower(name))) do update set name = excluded.name, query = excluded.query,
    saved_by = excluded.saved_by, saved_at = now()
  returning v.*
$$;

create function telemetry.delete_view(p_id bigint)
returns boolean
language sql
security definer
set search_path = ''
as $$
  with gone as (delete from telemetry.saved_views v where v.id = p_id returning 1)
  select exists (select 1 from gone)
$$;

revoke all on function telemetry.captured_tsvector(jsonb), telemetry.content_query(text),
  telemetry.save_view(text, text, text), telemetry.delete_view(bigint) from public;
grant execute on function telemetry.captured_tsvector(jsonb), telemetry.content_query(text),
  telemetry.save_view(text, text, text), telemetry.delete_view(bigint) to streamscope_dashboard;
