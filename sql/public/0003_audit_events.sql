-- Who changed what through /cc and the CLI: one row per operator write (tenant create, drop,
-- suspend, resume, migrations…), whether it succeeded or failed. Appended, never updated.
-- migrate:up
create table audit_events (
  id integer generated always as identity primary key,
  at timestamptz not null default now(),
  -- cli:<os user> or admin-token:<first 8 hex of the token's SHA-256>; never the token itself.
  actor text not null,
  action text not null,
  schema text,
  outcome text not null check (outcome in ('ok', 'failed')),
  details jsonb not null default '{}'
);
create index audit_events_schema_idx on audit_events (schema, id);
create index audit_events_action_idx on audit_events (action, id);

-- migrate:down
drop table audit_events;
