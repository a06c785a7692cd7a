-- A session's turns in order (the dashboard's /sessions/<id> and /api/sessions/<id>): request
-- spans of one session by start time. Without it the read scans every request span of the
-- lookback window; with it, one index range per day partition.
create index if not exists spans_requests_session_idx on telemetry.spans (session_id, start_time, span_id)
  where kind = 'server' and function is not null and session_id is not null;
