-- Prices are data: one row per model and date from which it applies. A span is
-- priced with the row in force at its start_time, so a price change never
-- rewrites the cost of what was already served. Edit with plain SQL:
--   insert into telemetry.model_prices values ('gpt-4o', '2027-01-01', 2.00, 8.00);
create table telemetry.model_prices (
  model                 text not null,
  effective_from        timestamptz not null,
  input_usd_per_mtok    numeric not null check (input_usd_per_mtok >= 0),
  output_usd_per_mtok   numeric not null check (output_usd_per_mtok >= 0),
  primary key (model, effective_from)
);

-- Starting set: OpenAI list prices (standard tier, USD per 1M tokens) as
-- published on the OpenAI pricing page, checked March 2026. `sim-1`, the
-- simulated provider's model, is priced like gpt-4o-mini so the demo shows cost.
insert into telemetry.model_prices (model, effective_from, input_usd_per_mtok, output_usd_per_mtok) values
  ('gpt-4o',                  '2024-01-01T00:00:00Z', 2.50, 10.00),
  ('gpt-4o-mini',             '2024-01-01T00:00:00Z', 0.15,  0.60),
  ('gpt-4.1',                 '2024-01-01T00:00:00Z', 2.00,  8.00),
  ('gpt-4.1-mini',            '2024-01-01T00:00:00Z', 0.40,  1.60),
  ('o3-mini',                 '2024-01-01T00:00:00Z', 1.10,  4.40),
  ('text-embedding-3-small',  '2024-01-01T00:00:00Z', 0.02,  0.00),
  ('text-embedding-3-large',  '2024-01-01T00:00:00Z', 0.13,  0.00),
  ('sim-1',                   '2024-01-01T00:00:00Z', 0.15,  0.60)
on conflict do nothing;

-- Cost of one span at the price in force when it started (null: unknown model or no usage).
create or replace function telemetry.span_cost(p_model text, p_at timestamptz, p_input integer, p_output integer)
returns numeric
language sql stable parallel safe
as $$
  select (coalesce(p_input, 0) * p.input_usd_per_mtok + coalesce(p_output, 0) * p.output_usd_per_mtok) / 1000000
  from telemetry.model_prices p
  where p.model = p_model and p.effective_from <= p_at and (p_input is not null or p_output is not null)
  order by p.effective_from desc
  limit 1
$$;
