-- One assistant answer per chat request (trace): storing the answer is retried through a
-- database outage, and a retry whose first attempt did commit (the reply was lost with the
-- connection) must find that row instead of adding a second one.
create unique index if not exists messages_assistant_trace_idx on public.messages (trace_id) where role = 'assistant';
