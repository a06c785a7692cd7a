-- Per-user request and token counters per clock minute, shared by every isolate:
-- Edge Function isolates share no memory, so the limit lives in Postgres and one
-- statement (check_rate_limit) both checks and counts under the row's lock.
create table public.rate_limits (
  user_id       uuid not null,
  window_start  timestamptz not null,
  requests      integer not null default 0,
  tokens        bigint not null default 0,
  primary key (user_id, window_start)
);

-- Invisible to clients: RLS on with no policy, and no grants.
alter table public.rate_limits enable row level security;
revoke all on public.rate_limits from public, anon, authenticated;
grant all on public.rate_limits to service_role;

-- Counts one request of `p_tokens` estimated tokens against the current minute unless
-- that would pass a limit (0 = unlimited). Concurrent callers serialise on the row
-- (insert … on conflict do update takes its lock), so N racing requests against a
-- limit of K admit exactly K. A refused request is not counted.
create function public.check_rate_limit(p_user_id uuid, p_rpm integer, p_tpm bigint, p_tokens bigint)
returns table (allowed boolean, exceeded text, requests integer, tokens bigint, window_start timestamptz, retry_after_seconds integer)
language plpgsql
set search_path = ''
as $$
#variable_conflict use_column
declare
  w timestamptz := date_trunc('minute', now());
  v_requests integer;
  v_tokens bigint;
  v_inserted boolean;
begin
  insert into public.rate_limits as r (user_id, window_start, requests, tokens)
  values (p_user_id, w, 1, p_tokens)
  on conflict on constraint rate_limits_pkey do update
    set requests = r.requests + 1, tokens = r.tokens + excluded.tokens
    where (p_rpm <= 0 or r.requests < p_rpm)
      and (p_tpm <= 0 or r.tokens + excluded.tokens <= p_tpm)
  returning r.requests, r.tokens, (r.xmax = 0) into v_requests, v_tokens, v_inserted;

  if found then
    -- First request of this user's minute: drop their older windows (keeps the table
    -- at about one row per active user without a scheduled job).
    if v_inserted then
      delete from public.rate_limits d where d.user_id = p_user_id and d.window_start < w;
    end if;
    return query select true, null::text, v_requests, v_tokens, w, 0;
    return;
  end if;

  select r.requests, r.tokens into v_requests, v_tokens
  from public.rate_limits r where r.user_id = p_user_id and r.window_start = w;
  return query select
    false,
    case when p_rpm > 0 and v_requests >= p_rpm then 'requests' else 'tokens' end,
    v_requests, v_tokens, w,
    greatest(1, ceil(extract(epoch from (w + interval '1 minute' - now())))::integer);
end
$$;

-- Replaces a request's estimated tokens by what it really used, in the minute it was
-- counted in (a stream may end in the next minute; the charge stays where it was made).
create function public.settle_rate_limit(p_user_id uuid, p_window_start timestamptz, p_token_delta bigint)
returns void
language sql
set search_path = ''
as $$
  update public.rate_limits
  set tokens = greatest(0, tokens + p_token_delta)
  where user_id = p_user_id and window_start = p_window_start
$$;

-- Supabase exposes public functions as RPC endpoints: clients must not call these.
revoke all on function public.check_rate_limit(uuid, integer, bigint, bigint) from public, anon, authenticated;
revoke all on function public.settle_rate_limit(uuid, timestamptz, bigint) from public, anon, authenticated;
grant execute on function public.check_rate_limit(uuid, integer, bigint, bigint) to service_role;
grant execute on function public.settle_rate_limit(uuid, timestamptz, bigint) to service_role;
