-- Failed operator sign-ins, counted in Postgres so that every dashboard process on one
-- database enforces one limit (docs/security.md, "Failed sign-ins"): N processes no longer
-- allow N times the attempts. One row per key: a client address as the dashboard counts it
-- (IPv6 by /64), or '*' for all addresses together. A window opens at a key's first failure
-- and lasts p_window_seconds, as the dashboard's in-process count (throttle.ts) does.
-- The dashboard reaches the table only through the two functions below.

create table telemetry.signin_failures (
  key           text primary key,
  window_start  timestamptz not null,
  failures      integer not null
);
create index signin_failures_window_idx on telemetry.signin_failures (window_start);

revoke all on telemetry.signin_failures from public, anon, authenticated, service_role, streamscope_dashboard;

-- Counts one failure from p_address (and one towards '*'); returns the address's failures in
-- its window. Windows that have ended are deleted on the way.
create function telemetry.note_signin_failure(p_address text, p_window_seconds integer)
returns integer
language plpgsql
security definer
set search_path = ''
as $$
declare
  ended timestamptz := now() - make_interval(secs => p_window_seconds);
  n integer;
begin
  delete from telemetry.signin_failures where window_start <= ended and key not in (p_address, '*');
  insert into telemetry.signin_failures as f (key, window_start, failures)
    values ('*', now(), 1), (p_address, now(), 1)
    on conflict (key) do update set
      window_start = case when f.window_start <= ended then now() else f.window_start end,
      failures = case when f.window_start <= ended then 1 else f.failures + 1 end;
  select failures into n from telemetry.signin_failures where key = p_address;
  return n;
end
$$;

-- Whether an attempt from p_address must be refused: 'address' or 'global' with the seconds
-- left in that window, or no row when it may go ahead.
create function telemetry.signin_refusal(p_address text, p_per_address integer, p_global integer, p_window_seconds integer)
returns table (scope text, retry_after_seconds integer)
language sql
stable
security definer
set search_path = ''
as $$
  select case when f.key = '*' then 'global' else 'address' end,
         greatest(1, ceil(extract(epoch from (f.window_start + make_interval(secs => p_window_seconds) - now()))))::integer
    from telemetry.signin_failures f
   where f.window_start > now() - make_interval(secs => p_window_seconds)
     and ((f.key = p_address and f.failures >= p_per_address) or (f.key = '*' and f.failures >= p_global))
   order by f.key = '*'
   limit 1
$$;

revoke all on function telemetry.note_signin_failure(text, integer), telemetry.signin_refusal(text, integer, integer, integer) from public;
grant execute on function telemetry.note_signin_failure(text, integer), telemetry.signin_refusal(text, integer, integer, integer) to streamscope_dashboard;
