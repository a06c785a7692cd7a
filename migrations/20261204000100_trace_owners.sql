-- Whose trace is it. A caller's `traceparent` may continue a trace for telemetry, but the
-- trace id in it is the caller's word: anyone who learned another user's trace id (a bug
-- report, a shared link) could send it. The functions bind each trace id to the first
-- user whose authenticated request lived in it, and continue a caller's trace only when
-- it is unbound or already theirs; otherwise the request starts a new trace and keeps
-- the caller's context as a span link (functions/gate.ts). One statement per request
-- (functions/trace-owners.ts): `insert … on conflict do update … returning` takes the
-- row lock, so two users racing for one new trace id get one owner.
create table public.trace_owners (
  trace_id    text primary key,
  user_id     uuid not null,
  created_at  timestamptz not null default now(),
  constraint trace_owners_trace_id check (trace_id ~ '^[0-9a-f]{32}$')
);

-- Invisible to clients: RLS on with no policy, and no grants.
alter table public.trace_owners enable row level security;
revoke all on public.trace_owners from public, anon, authenticated;
grant all on public.trace_owners to service_role;
