-- The history a chat loads (functions/chat/messages.ts: one session of one user, newest first)
-- from one index that matches the whole filter and the order. With only (session_id, created_at)
-- and (user_id, created_at) the planner could AND both bitmaps, reading every message the user
-- ever wrote to find the few of this session (seen at ~1 ms a chat after a few thousand).
create index if not exists messages_session_user_idx on public.messages (session_id, user_id, created_at);
drop index if exists public.messages_session_idx;
