-- The shared registry: which tenants exist, where their schema is, and which tenant an email logs into.
-- migrate:up
create table tenants (
  id integer generated always as identity primary key,
  name text not null check (char_length(name) between 1 and 200),
  schema text not null unique
    check (schema ~ '^[a-z][a-z0-9_]{0,62}$' and schema <> 'public' and schema <> 'information_schema' and schema !~ '^pg_'),
  host text unique check (host is null or char_length(host) between 1 and 253),
  status text not null default 'active' check (status in ('active', 'suspended')),
  -- A copy of the tenant's own schema_migrations head, written in the same transaction, so a
  -- no-op fleet migration is one query instead of one per tenant.
  revision integer not null default 0,
  checksum text not null default '',
  created_at timestamptz not null default now()
);
create index tenants_revision_idx on tenants (revision);

-- Emails are unique across the service (lower-cased here), so login needs no tenant header.
create table accounts (
  email text primary key check (email = lower(email)),
  tenant_id integer not null references tenants (id) on delete cascade,
  created_at timestamptz not null default now()
);
create index accounts_tenant_id_idx on accounts (tenant_id);

-- migrate:down
drop table accounts;
drop table tenants;
