-- Conditional requests and idempotent creates (README › Conditional requests, › Idempotent creates).
-- A task's or user's ETag is built from its updated_at at millisecond precision, so every change to
-- the row, including those a foreign key makes (a deleted user's tasks lose their assignee), moves
-- updated_at forward by at least a millisecond: each state of a row has its own ETag.
-- The responses to POSTs sent with an Idempotency-Key are kept per user for 24 hours, pruned on write.
-- migrate:up
create function touch_updated_at() returns trigger language plpgsql as $$
begin
  new.updated_at := greatest(now(), old.updated_at + interval '1 millisecond');
  return new;
end
$$;
create trigger tasks_touch_updated_at before update on tasks for each row execute function touch_updated_at();
create trigger users_touch_updated_at before update on users for each row execute function touch_updated_at();

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
drop trigger users_touch_updated_at on users;
drop trigger tasks_touch_updated_at on tasks;
drop function touch_updated_at();
