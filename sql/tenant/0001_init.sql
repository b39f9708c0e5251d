-- What every tenant holds: its users, their sessions (token hashes only) and the tasks.
-- No foreign key leaves the schema, so each tenant can live on its own node (Citus schema sharding).
-- migrate:up
create table users (
  id integer generated always as identity primary key,
  email text not null check (email = lower(email)),
  password_hash text not null,
  first_name text not null check (char_length(first_name) between 1 and 100),
  last_name text not null check (char_length(last_name) between 1 and 100),
  role text not null default 'member' check (role in ('admin', 'member')),
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create unique index users_email_key on users (email);

create table sessions (
  token_hash bytea primary key,
  user_id integer not null references users (id) on delete cascade,
  created_at timestamptz not null default now(),
  expires_at timestamptz not null
);
create index sessions_user_id_idx on sessions (user_id);

create table tasks (
  id integer generated always as identity primary key,
  title text not null check (char_length(title) between 1 and 500),
  completed boolean not null default false,
  "order" integer not null default 0,
  description text not null default '' check (char_length(description) <= 10000),
  priority text not null default 'normal' check (priority in ('low', 'normal', 'high')),
  due_at timestamptz,
  assignee_id integer references users (id) on delete set null,
  tags text[] not null default '{}',
  created_by integer references users (id) on delete set null,
  created_at timestamptz not null default now(),
  updated_at timestamptz not null default now()
);
create index tasks_created_at_idx on tasks (created_at, id);
create index tasks_assignee_id_idx on tasks (assignee_id);
create index tasks_tags_idx on tasks using gin (tags);

-- migrate:down
drop table tasks;
drop table sessions;
drop table users;
