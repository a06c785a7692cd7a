-- An answer is stored under its stream's id, which the server makes (functions/chat):
-- a retry of the write finds the row its first attempt committed by that id. Keyed by
-- trace id instead, a caller that sent the same traceparent twice (or another user's)
-- had its second answer dropped and was handed the first one's message id.
drop index if exists public.messages_assistant_trace_idx;
