-- Conditional requests and idempotent creates (README › Conditional requests, › Idempotent creates).
-- A task's or user's ETag names its version, a counter every statement that changes the row moves
-- on (src/db/versions.ts). The responses to POSTs sent with an Idempotency-Key are kept per user for
-- 24 hours, pruned on write.
-- migrate:up
alter table tasks add column version integer not null default 1;
alter table users add column version integer not null default 1;


create table idempotency_keys (
  -- No foreign key: a deleted user's keys just expire (ids are never reused), and creating a tenant stays cheaper.
  user_id integer not null,
  key text not null check (char_length(key) between 1 and 255),
  -- SHA-256 of the method, path and body, without any password in it: a fast hash of a password
  -- would undo argon2. The password is checked against `secret`, its argon2 hash, instead.
  fingerprint bytea not null,
  secret text,
  status integer not null,
  location text,
  etag text,
  body text not null,
  created_at timestamptz not null default now(),
  primary key (user_id, key)
);
create index idempotency_keys_created_at_idx on idempotency_keys (created_at);

-- migrate:down
drop table idempotency_keys;
alter table users drop column version;
alter table tasks drop column version;
