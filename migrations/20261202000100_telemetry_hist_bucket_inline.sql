-- hist_bucket was declared STRICT around a CASE, which PostgreSQL will not inline (a
-- CASE is not strict), so every call paid a full SQL-function call: ~1 µs, four times
-- per request span in the rollups (telemetry.hist_acc), and again in any query that
-- buckets raw values. Null-safe without STRICT, it inlines; same results, null stays null.
create or replace function telemetry.hist_bucket(v double precision)
returns integer
language sql immutable parallel safe
as $$
  select case when v is null then null when v <= 1 then 1 else least(67, 1 + ceil(ln(v) / ln(1.25)))::integer end
$$;
