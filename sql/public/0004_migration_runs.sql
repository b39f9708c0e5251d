-- Fleet migration runs: who started what, how far it got, and what it did to each tenant, so a
-- run can be watched from any instance, stopped, resumed after its owner died, and reverted exactly.
-- migrate:up
create table migration_runs (
  id integer generated always as identity primary key,
  kind text not null check (kind in ('up', 'revert')),
  status text not null default 'running' check (status in ('running', 'done', 'halted', 'failed', 'cancelled')),
  actor text not null,
  -- The revision an up run migrates tenants to; a revert takes each tenant back to where the reverted run found it.
  target integer,
  reverts integer references migration_runs (id),
  dry_run boolean not null default false,
  options jsonb not null default '{}',
  -- {total, planned} from the plan; each outcome's count is written when the run stops (live while running).
  counts jsonb not null default '{}',
  message text,
  -- Every start, resume, cancel request and stop, with its actor: [{at, actor, event, …}].
  events jsonb not null default '[]',
  started_at timestamptz not null default now(),
  finished_at timestamptz,
  -- The process driving the run and its last sign of life: a running run whose heartbeat stopped
  -- (its owner died) reads as interrupted, and anyone may resume it.
  owner text,
  heartbeat_at timestamptz not null default now(),
  cancel_requested_at timestamptz
);

-- One row per tenant a run touched: what it applied (or reverted) there and how it went.
create table migration_run_tenants (
  run_id integer not null references migration_runs (id) on delete cascade,
  schema text not null,
  from_revision integer not null,
  to_revision integer not null,
  applied text[] not null default '{}',
  outcome text not null check (outcome in ('migrated', 'reverted', 'unchanged', 'failed', 'blocked', 'refused')),
  error text,
  attempts integer not null default 1,
  ms integer not null default 0,
  finished_at timestamptz not null default now(),
  primary key (run_id, schema)
);

-- migrate:down
drop table migration_run_tenants;
drop table migration_runs;
