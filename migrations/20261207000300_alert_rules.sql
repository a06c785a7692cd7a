-- Alerts as data (docs/dashboard.md, "Alerts"): rules operators edit on the dashboard, the state
-- of each rule and its history, and the one evaluator, telemetry.evaluate_alerts(now), which the
-- Node server calls on an interval and pg_cron runs every minute where it is installed.
--
-- The rule's shape and its metrics are declared in shared/alert-rules.ts; the check on `metric`
-- below lists the same names (tests/dashboard/alert-evaluator.test.ts holds the two together),
-- and telemetry.alert_measure computes each one.

create table telemetry.alert_rules (
  id                integer generated always as identity primary key,
  name              text not null,
  metric            text not null,
  threshold         double precision not null,
  window_minutes    integer not null,
  min_requests      integer not null,
  cooldown_minutes  integer not null,
  enabled           boolean not null,
  created_at        timestamptz not null default now(),
  updated_at        timestamptz not null default now(),
  updated_by        text,
  constraint alert_rules_name unique (name),
  constraint alert_rules_metric check (metric in ('error_rate', 'ttfb_p95', 'itl_p95', 'stall_rate', 'spend', 'user_spend')),
  constraint alert_rules_numbers check (threshold > 0 and threshold < 'Infinity' and window_minutes >= 1
                                        and min_requests >= 0 and cooldown_minutes >= 0)
);

-- One row per rule and subject: '' is the whole service, a user id is one user of a
-- user_spend rule. Written by the evaluator only.
create table telemetry.alert_state (
  rule_id       integer not null references telemetry.alert_rules (id) on delete cascade,
  subject       text not null,
  firing        boolean not null,
  value         double precision,
  requests      integer,
  -- While firing: when it fired, and that firing's event (the alert's id).
  since         timestamptz,
  firing_id     bigint,
  -- The cooldown counts from here.
  resolved_at   timestamptz,
  evaluated_at  timestamptz not null,
  primary key (rule_id, subject)
);

-- The history, and the webhook's outbox: every firing and every resolution, with the rule as it
-- was then. `delivery` is pending until a server posts it (or, without a webhook, skips it).
create table telemetry.alert_events (
  id              bigint generated always as identity primary key,
  rule_id         integer references telemetry.alert_rules (id) on delete set null,
  rule_name       text not null,
  metric          text not null,
  subject         text not null,
  status          text not null,
  at              timestamptz not null,
  value           double precision,
  requests        integer,
  threshold       double precision not null,
  window_minutes  integer not null,
  -- On a resolution: the firing it ends.
  firing_id       bigint references telemetry.alert_events (id) on delete cascade,
  fired_at        timestamptz not null,
  delivery        text not null default 'pending',
  attempts        integer not null default 0,
  last_error      text,
  delivered_at    timestamptz,
  -- A sender holds an event while it posts it, so two servers never post the same one.
  claimed_until   timestamptz,
  constraint alert_events_status check (status in ('firing', 'resolved')),
  constraint alert_events_delivery check (delivery in ('pending', 'sent', 'skipped'))
);
create index alert_events_pending_idx on telemetry.alert_events (id) where delivery = 'pending';
create index alert_events_firing_idx on telemetry.alert_events (firing_id) where firing_id is not null;
create index alert_events_at_idx on telemetry.alert_events (at desc);

-- The first server start writes the ALERT_* thresholds as rules once (server/alerts.ts); after
-- that the rules are what operators make of them.
alter table telemetry.settings add column alert_rules_seeded_at timestamptz;

-- Operators edit rules through the dashboard's role; state and history are the evaluator's.
-- (The schema's default privileges already give the role SELECT on new tables.)
revoke all on telemetry.alert_rules, telemetry.alert_state, telemetry.alert_events
  from public, anon, authenticated, service_role;
grant select, insert, update, delete on telemetry.alert_rules to streamscope_dashboard;
grant select on telemetry.alert_state, telemetry.alert_events to streamscope_dashboard;

-- The request spans of a window, as the metrics read them (spans_requests_time_idx bounds it).
create function telemetry.alert_requests(p_from timestamptz, p_to timestamptz)
returns table (function text, user_id text, status text, ttfb_ms double precision, frame_offsets_ms real[],
               stalls integer, cost_usd numeric)
language sql stable
as $$
  select s.function, s.user_id, telemetry.request_status(s.http_status, s.status_code, s.end_reason),
         s.ttfb_ms, s.frame_offsets_ms, s.stalls, s.cost_usd
  from telemetry.spans s
  where s.kind = 'server' and s.function is not null and s.start_time >= p_from and s.start_time < p_to
$$;

-- A metric over the window ending at p_now: its value per subject and the requests it counted.
-- Latency and stalls are about chat streams; errors and spend about every request.
create function telemetry.alert_measure(p_metric text, p_window_minutes integer, p_now timestamptz)
returns table (m_subject text, m_value double precision, m_requests integer)
language plpgsql stable
as $$
declare
  v_from timestamptz := p_now - make_interval(mins => p_window_minutes);
begin
  case p_metric
  when 'error_rate' then
    return query select ''::text, (count(*) filter (where q.status = 'error'))::float8 / nullif(count(*), 0), count(*)::integer
      from telemetry.alert_requests(v_from, p_now) q;
  when 'ttfb_p95' then
    return query select ''::text, percentile_cont(0.95) within group (order by q.ttfb_ms), count(q.ttfb_ms)::integer
      from telemetry.alert_requests(v_from, p_now) q where q.function = 'chat';
  when 'itl_p95' then
    -- Inter-token latency: the gaps between consecutive frames of each stream.
    return query with streams as (
        select q.frame_offsets_ms as f from telemetry.alert_requests(v_from, p_now) q
        where q.function = 'chat' and cardinality(q.frame_offsets_ms) >= 2
      )
      select ''::text,
        (select percentile_cont(0.95) within group (order by (s.f[i] - s.f[i - 1])::float8)
           from streams s cross join lateral generate_subscripts(s.f, 1) as i where i > 1),
        (select count(*)::integer from streams);
  when 'stall_rate' then
    return query select ''::text, (count(*) filter (where q.stalls > 0))::float8 / nullif(count(*), 0), count(*)::integer
      from telemetry.alert_requests(v_from, p_now) q where q.function = 'chat' and q.status <> 'client_error';
  when 'spend' then
    return query select ''::text, coalesce(sum(q.cost_usd), 0)::float8, count(*)::integer
      from telemetry.alert_requests(v_from, p_now) q;
  when 'user_spend' then
    return query select q.user_id, coalesce(sum(q.cost_usd), 0)::float8, count(*)::integer
      from telemetry.alert_requests(v_from, p_now) q where coalesce(q.user_id, '') <> '' group by q.user_id;
  else
    raise exception 'unknown alert metric %', p_metric using errcode = '22023';
  end case;
end
$$;

-- An event of a rule's subject, with the rule as it is now.
create function telemetry.alert_event(p_rule telemetry.alert_rules, p_subject text, p_status text, p_now timestamptz,
                                      p_value double precision, p_requests integer, p_firing_id bigint, p_fired_at timestamptz)
returns setof telemetry.alert_events
language sql
as $$
  insert into telemetry.alert_events (rule_id, rule_name, metric, subject, status, at, value, requests, threshold,
                                      window_minutes, firing_id, fired_at)
  values (p_rule.id, p_rule.name, p_rule.metric, p_subject, p_status, p_now, p_value, p_requests, p_rule.threshold,
          p_rule.window_minutes, p_firing_id, p_fired_at)
  returning *
$$;

-- One subject of one rule: fires when it breaches and is not cooling down (cooldown_minutes
-- since it last resolved), resolves when it no longer breaches; returns the event, if any.
create function telemetry.alert_step(p_rule telemetry.alert_rules, p_subject text, p_value double precision,
                                     p_requests integer, p_breach boolean, p_now timestamptz)
returns setof telemetry.alert_events
language plpgsql
as $$
declare
  st telemetry.alert_state;
  ev telemetry.alert_events;
begin
  select * into st from telemetry.alert_state s where s.rule_id = p_rule.id and s.subject = p_subject for update;
  if p_breach and not coalesce(st.firing, false)
     and (st.resolved_at is null or p_now >= st.resolved_at + make_interval(mins => p_rule.cooldown_minutes)) then
    select * into ev from telemetry.alert_event(p_rule, p_subject, 'firing', p_now, p_value, p_requests, null, p_now);
    insert into telemetry.alert_state as s (rule_id, subject, firing, value, requests, since, firing_id, resolved_at, evaluated_at)
    values (p_rule.id, p_subject, true, p_value, p_requests, p_now, ev.id, st.resolved_at, p_now)
    on conflict (rule_id, subject) do update
      set firing = true, value = excluded.value, requests = excluded.requests, since = excluded.since,
          firing_id = excluded.firing_id, evaluated_at = excluded.evaluated_at;
    return next ev;
  elsif not p_breach and coalesce(st.firing, false) then
    select * into ev from telemetry.alert_event(p_rule, p_subject, 'resolved', p_now, p_value, p_requests, st.firing_id, st.since);
    update telemetry.alert_state s
       set firing = false, value = p_value, requests = p_requests, since = null, firing_id = null,
           resolved_at = p_now, evaluated_at = p_now
     where s.rule_id = p_rule.id and s.subject = p_subject;
    return next ev;
  elsif st.rule_id is not null or p_subject = '' then
    -- No change: the value is kept current for the dashboard.
    insert into telemetry.alert_state as s (rule_id, subject, firing, value, requests, evaluated_at)
    values (p_rule.id, p_subject, false, p_value, p_requests, p_now)
    on conflict (rule_id, subject) do update
      set value = excluded.value, requests = excluded.requests, evaluated_at = excluded.evaluated_at;
  end if;
end
$$;

-- The evaluator: every rule at p_now; returns the transitions (firing and resolved events).
-- A disabled rule, or a subject no longer measured, resolves what it had firing.
create function telemetry.evaluate_alerts(p_now timestamptz default now())
returns setof telemetry.alert_events
language plpgsql
as $$
declare
  r telemetry.alert_rules;
  m record;
begin
  -- The Node loop and pg_cron may both run it: one at a time, the second sees the first's state.
  perform pg_advisory_xact_lock(hashtext('streamscope.evaluate_alerts'));
  -- Rules before their state, as a delete (which cascades to the state) takes them: an edit or a
  -- delete waits for the pass, or the pass for it, and neither deadlocks.
  for r in select * from telemetry.alert_rules order by id for update loop
    for m in
      select coalesce(x.m_subject, st.subject) as subject, x.m_value as value, x.m_requests as requests,
             coalesce(x.m_value >= r.threshold and x.m_requests >= r.min_requests, false) as breach,
             st.subject is not null as firing
      from (select * from telemetry.alert_measure(r.metric, r.window_minutes, p_now) where r.enabled) x
      full join (select s.subject from telemetry.alert_state s where s.rule_id = r.id and s.firing) st
        on st.subject = x.m_subject
    loop
      -- A user who spends under the threshold needs no row.
      if m.subject = '' or m.breach or m.firing then
        return query select * from telemetry.alert_step(r, m.subject, m.value, m.requests, m.breach, p_now);
      end if;
    end loop;
  end loop;
  -- A user's quiet row is kept only while its cooldown runs.
  delete from telemetry.alert_state s using telemetry.alert_rules ru
   where ru.id = s.rule_id and not s.firing and (s.subject <> '' or ru.metric = 'user_spend')
     and (s.resolved_at is null or s.resolved_at + make_interval(mins => ru.cooldown_minutes) <= p_now);
end
$$;

-- A rule deleted while firing is resolved, so a receiver is not left with an open alert.
create function telemetry.resolve_deleted_alert_rule()
returns trigger
language plpgsql
security definer
set search_path = ''
as $$
declare
  st telemetry.alert_state;
begin
  for st in select * from telemetry.alert_state s where s.rule_id = old.id and s.firing loop
    perform telemetry.alert_event(old, st.subject, 'resolved', now(), st.value, st.requests, st.firing_id, st.since);
  end loop;
  return old;
end
$$;
create trigger alert_rules_resolve_on_delete before delete on telemetry.alert_rules
  for each row execute function telemetry.resolve_deleted_alert_rule();

-- The pg_cron jobs: telemetry maintenance hourly (20261205000400) and the alert evaluation every
-- minute. Idempotent, as before; the event trigger of 20261205000400 calls it when pg_cron arrives.
create or replace function telemetry.ensure_schedule()
returns text
language plpgsql
as $$
declare
  job record;
begin
  if to_regclass('cron.job') is null then return 'pg_cron is not installed'; end if;
  for job in select * from (values
    ('streamscope-telemetry-maintenance', '17 * * * *', 'select telemetry.run_maintenance()'),
    ('streamscope-alerts', '* * * * *', 'select count(*) from telemetry.evaluate_alerts()')) as j (name, schedule, command)
  loop
    -- Through execute: the cron schema exists only where pg_cron does (plpgsql_check, db lint).
    execute format('select %s($1, $2, $3)', 'cron.schedule') using job.name, job.schedule, job.command;
  end loop;
  return 'scheduled';
end
$$;

revoke all on function telemetry.alert_requests(timestamptz, timestamptz), telemetry.alert_measure(text, integer, timestamptz),
  telemetry.alert_event(telemetry.alert_rules, text, text, timestamptz, double precision, integer, bigint, timestamptz),
  telemetry.alert_step(telemetry.alert_rules, text, double precision, integer, boolean, timestamptz),
  telemetry.evaluate_alerts(timestamptz), telemetry.resolve_deleted_alert_rule(), telemetry.ensure_schedule()
  from public, anon, authenticated, service_role;

select telemetry.ensure_schedule();
