-- Who may listen to a chat's `chat.done` on Supabase Realtime (docs/chat.md "Realtime").
--
-- The chat function broadcasts on the private channel `chat:<user_id>:<session_id>`
-- (shared/realtime.ts) through Realtime's HTTP API with the service role key, which
-- bypasses these policies. A client joins a private channel only when a policy on
-- realtime.messages lets its JWT read the topic (Realtime tries it in a rolled-back
-- transaction, with the topic in realtime.topic()). The topic names the user because a
-- session id is neither secret nor owned: anyone may post into any session id.
--
-- Clients may only listen: there is no insert policy, so no one can send a forged
-- chat.done to a user's other tabs, not even the user.
--
-- realtime.messages belongs to the Realtime service, which creates it on Supabase; a
-- plain PostgreSQL (the tests) or PGlite has no such table. The policy is installed
-- by a function so that a database where Realtime created its tables after this
-- migration ran (a local `supabase db reset`) can install it later:
-- `select public.install_chat_realtime_policy();` (idempotent; false when there is no
-- realtime.messages yet).
create or replace function public.install_chat_realtime_policy()
returns boolean
language plpgsql
set search_path = ''
as $$
begin
  if to_regclass('realtime.messages') is null then
    return false;
  end if;
  execute 'alter table realtime.messages enable row level security';
  execute 'drop policy if exists chat_done_listen_own on realtime.messages';
  execute $policy$
    create policy chat_done_listen_own on realtime.messages
      for select to authenticated
      using (
        extension = 'broadcast'
        and starts_with((select realtime.topic()), 'chat:' || (select auth.uid())::text || ':')
      )
  $policy$;
  return true;
end
$$;

revoke all on function public.install_chat_realtime_policy() from public, anon, authenticated, service_role;

select public.install_chat_realtime_policy();
