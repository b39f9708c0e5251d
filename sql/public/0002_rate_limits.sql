-- The public edge's rate-limit counters, shared by every instance and worker: one row per policy
-- and subject (a SHA-256 of the client address or email, so no personal data is kept), counting
-- hits in a fixed window. Unlogged: a crash may forget the counts, which only resets the windows;
-- in exchange no counter write goes through the WAL (nor to replicas).
-- migrate:up
create unlogged table rate_limits (
  policy text not null,
  subject bytea not null,
  hits integer not null,
  resets_at timestamptz not null,
  primary key (policy, subject)
);

-- migrate:down
drop table rate_limits;
