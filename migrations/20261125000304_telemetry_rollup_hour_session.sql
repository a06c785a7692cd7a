-- Two more rollups for the dashboard's long ranges (docs/telemetry-contract-request.md),
-- maintained by the same statement as rollup_minute (shared/telemetry/insert.ts):
--   rollup_hour: rollup_minute's columns without user_id, per hour — a 30-day chart reads
--     hundreds of rows per day instead of one per minute and user.
--   rollup_day_session: cost and tokens per day, session, user and model — "top sessions /
--     users by cost" without scanning request spans.
create table telemetry.rollup_hour (
  bucket         timestamptz not null,            -- date_trunc('hour', start_time)
  function       text not null,
  model          text not null default '',
  status         text not null,
  error_type     text not null default '',
  requests       integer not null,
  errors         integer not null,
  input_tokens   bigint not null,
  output_tokens  bigint not null,
  cost_usd       numeric(16, 8) not null,
  stream_ms      double precision not null,       -- avg concurrent streams over the hour = stream_ms / 3600000
  stalls         integer not null,
  frames         bigint not null,
  ttfb_hist      integer[] not null,
  duration_hist  integer[] not null,
  primary key (bucket, function, model, status, error_type)
);

create table telemetry.rollup_day_session (
  day            date not null,                   -- UTC day of start_time
  session_id     text not null default '',
  user_id        text not null default '',
  model          text not null default '',
  requests       integer not null,
  input_tokens   bigint not null,
  output_tokens  bigint not null,
  cost_usd       numeric(16, 8) not null,
  primary key (day, session_id, user_id, model)
);

-- Rollup retention now covers all three tables.
create or replace function telemetry.prune_rollups(days integer)
returns bigint
language plpgsql
as $$
declare
  cutoff timestamptz := now() - make_interval(days => days);
  n bigint;
  total bigint := 0;
begin
  delete from telemetry.rollup_minute where bucket < cutoff;
  get diagnostics n = row_count; total := total + n;
  delete from telemetry.rollup_hour where bucket < date_trunc('hour', cutoff);
  get diagnostics n = row_count; total := total + n;
  delete from telemetry.rollup_day_session where day < (cutoff at time zone 'UTC')::date;
  get diagnostics n = row_count; total := total + n;
  return total;
end
$$;
