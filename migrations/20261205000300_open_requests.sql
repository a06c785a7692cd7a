-- Requests on record while they run, so one whose isolate died shows up as lost.
--
-- A function's telemetry pipeline writes a row in open_requests for each request span still open
-- at its next batch (a request that ends before then never gets one), and deletes it in the
-- transaction that writes the span's row. While it holds open rows it refreshes its instance's
-- heartbeat (seen_at) and expires_at = seen_at + its deadline. An open row whose instance expired
-- is lost: the isolate is presumed dead. No gateway is asked: this works wherever the functions
-- run, with only their own writes and the database clock.
create table telemetry.instances (
  instance_id  text primary key,
  started_at   timestamptz not null default now(),
  seen_at      timestamptz not null default now(),
  expires_at   timestamptz not null
);

create table telemetry.open_requests (
  trace_id        text not null,
  span_id         text not null,
  parent_span_id  text,
  name            text not null,
  start_time      timestamptz not null,
  function        text,
  model           text,
  user_id         text,
  session_id      text,
  run_id          text,
  attributes      jsonb not null default '{}'::jsonb,
  instance_id     text not null,
  primary key (trace_id, span_id)
);

create index open_requests_instance_idx on telemetry.open_requests (instance_id);
create index open_requests_start_time_idx on telemetry.open_requests (start_time);

-- Open requests whose instance expired (or is unknown), shaped as telemetry.spans rows: a server span
-- that ended, as far as anyone knows, at its instance's last heartbeat, with end_reason 'lost'.
create view telemetry.lost_requests as
  select o.trace_id, o.span_id, o.parent_span_id, o.name, 'server'::text as kind, o.start_time,
         greatest(coalesce(i.seen_at, o.start_time), o.start_time) as end_time,
         (extract(epoch from greatest(coalesce(i.seen_at, o.start_time), o.start_time) - o.start_time) * 1000)::float8 as duration_ms,
         'error'::text as status_code,
         'lost: the isolate serving this request ended without ending it'::text as status_message,
         o.function, o.model, null::float8 as ttfb_ms, null::integer as input_tokens, null::integer as output_tokens,
         'isolate_lost'::text as error_type, o.user_id, o.session_id,
         o.attributes || jsonb_build_object('streamscope.instance.id', o.instance_id) as attributes,
         null::jsonb as events, null::real[] as frame_offsets_ms, null::integer as frames, null::integer as bytes,
         'lost'::text as end_reason, null::integer as stalls, null::real as max_gap_ms, null::numeric(14, 8) as cost_usd,
         null::boolean as usage_estimated, null::smallint as http_status, o.run_id, o.instance_id
  from telemetry.open_requests o
  left join telemetry.instances i on i.instance_id = o.instance_id
  where i.instance_id is null or i.expires_at < now();

-- What the dashboard reads for requests: every stored span, and the lost requests no live pipeline
-- has stored as spans yet (the pipelines store them: see shared/telemetry/open-requests.ts).
create view telemetry.spans_and_lost as
  select trace_id, span_id, parent_span_id, name, kind, start_time, end_time, duration_ms, status_code, status_message,
         function, model, ttfb_ms, input_tokens, output_tokens, error_type, user_id, session_id, attributes, events,
         frame_offsets_ms, frames, bytes, end_reason, stalls, max_gap_ms, cost_usd, usage_estimated, http_status, run_id
  from telemetry.spans
  union all
  select trace_id, span_id, parent_span_id, name, kind, start_time, end_time, duration_ms, status_code, status_message,
         function, model, ttfb_ms, input_tokens, output_tokens, error_type, user_id, session_id, attributes, events,
         frame_offsets_ms, frames, bytes, end_reason, stalls, max_gap_ms, cost_usd, usage_estimated, http_status, run_id
  from telemetry.lost_requests;

revoke all on telemetry.instances, telemetry.open_requests, telemetry.lost_requests, telemetry.spans_and_lost
  from public, anon, authenticated;
