-- The tenant's row counts behind its quotas (TENANT_MAX_USERS, TENANT_MAX_TASKS). The statements
-- that insert and delete users and tasks (src/db/) update them in the same statement or
-- transaction, so checking a quota never counts rows, and concurrent creates queue on this one row
-- instead of both taking the last slot. After changing rows by hand, recount:
--   update counts set users = (select count(*) from users), tasks = (select count(*) from tasks);
-- migrate:up
create table counts (
  id boolean primary key default true check (id),
  users integer not null,
  tasks integer not null
);
-- Inserted, then counted: Citus refuses subqueries inside an INSERT.
insert into counts (users, tasks) values (0, 0);
update counts set users = (select count(*) from users), tasks = (select count(*) from tasks);

-- migrate:down
drop table counts;
