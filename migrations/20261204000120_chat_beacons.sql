-- The client-timing beacon (POST /functions/v1/chat/beacon) is accepted once per answer:
-- a row here per answer whose timing was recorded. The insert that claims it is also the
-- ownership check (it selects the user's own assistant message), so a repeat is a 409 and
-- writes no span.
create table public.chat_beacons (
  message_id   uuid primary key references public.messages (id) on delete cascade,
  user_id      uuid not null,
  received_at  timestamptz not null default now()
);

-- Invisible to clients: RLS on with no policy, and no grants.
alter table public.chat_beacons enable row level security;
revoke all on public.chat_beacons from public, anon, authenticated;
grant all on public.chat_beacons to service_role;
