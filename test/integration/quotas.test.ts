// Per-tenant quotas (TENANT_MAX_USERS, TENANT_MAX_TASKS): exact under concurrency, across two
// instances on their own connections, and kept in step by every insert and delete.
import { describe, expect, test } from "bun:test";
import type { Sql } from "../../src/db/client";
import { migrateTenant } from "../../src/migrator/fleet";
import { createTenant } from "../../src/services/tenants";
import { source, uniqueSchema } from "../support/db";
import { testApp } from "../support/http";

const quotas = { users: 3, tasks: 10 };
const one = await testApp({ quotas });
const two = await testApp({ quotas }, source, { ownPool: true });

const counts = async (sql: Sql, schema: string) => {
  const [row] = await sql`
    select c.users, c.tasks, (select count(*)::int from ${sql(schema)}.users) as real_users, (select count(*)::int from ${sql(schema)}.tasks) as real_tasks
    from ${sql(schema)}.counts c`;
  return row as { users: number; tasks: number; real_users: number; real_tasks: number };
};

describe("TENANT_MAX_TASKS", () => {
  test("20 concurrent creates through two instances with 3 slots left: exactly 3 get 201, the rest 403 quota_exceeded", async () => {
    const me = await one.signUp();
    for (let i = 0; i < 7; i++) expect((await one.req("POST", "/tasks", { headers: me.headers, body: { title: `t${i}` } })).status).toBe(201);
    const replies = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? one : two).req("POST", "/tasks", { headers: me.headers, body: { title: `race ${i}` } })),
    );
    expect(replies.filter((r) => r.status === 201)).toHaveLength(3);
    const refused = replies.filter((r) => r.status !== 201);
    expect(refused.map((r) => r.status)).toEqual(Array(17).fill(403));
    expect(refused[0]!.body.error).toEqual({
      code: "quota_exceeded",
      message: "this tenant has reached its quota of 10 tasks",
      details: { quota: "TENANT_MAX_TASKS", limit: 10 },
    });
    expect(await counts(one.sql, me.schema)).toMatchObject({ tasks: 10, real_tasks: 10 });

    // Another tenant is not affected.
    const other = await two.signUp();
    expect((await two.req("POST", "/tasks", { headers: other.headers, body: { title: "mine" } })).status).toBe(201);
  });

  test("deleting frees slots: one by id, the completed ones, all of them; the count follows every path", async () => {
    const me = await one.signUp();
    const ids: number[] = [];
    for (let i = 0; i < 10; i++) ids.push((await one.req("POST", "/tasks", { headers: me.headers, body: { title: `t${i}`, completed: i < 4 } })).body.id);
    expect((await one.req("POST", "/tasks", { headers: me.headers, body: { title: "over" } })).status).toBe(403);

    expect((await one.req("DELETE", `/tasks/${ids[9]}`, { headers: me.headers })).status).toBe(204);
    expect((await one.req("DELETE", `/tasks/${ids[9]}`, { headers: me.headers })).status).toBe(404);
    expect(await counts(one.sql, me.schema)).toMatchObject({ tasks: 9, real_tasks: 9 });
    expect((await one.req("POST", "/tasks", { headers: me.headers, body: { title: "fits again" } })).status).toBe(201);

    expect((await one.req("DELETE", "/tasks?completed=true", { headers: me.headers })).status).toBe(204);
    expect(await counts(one.sql, me.schema)).toMatchObject({ tasks: 6, real_tasks: 6 });
    expect((await one.req("DELETE", "/tasks", { headers: me.headers })).status).toBe(204);
    expect(await counts(one.sql, me.schema)).toMatchObject({ tasks: 0, real_tasks: 0 });
  });

  test("off: no quota, and the count is still kept", async () => {
    const open = await testApp({ quotas: { users: 1, tasks: undefined } });
    const me = await open.signUp();
    for (let i = 0; i < 12; i++) expect((await open.req("POST", "/tasks", { headers: me.headers, body: { title: `t${i}` } })).status).toBe(201);
    expect(await counts(open.sql, me.schema)).toMatchObject({ tasks: 12, real_tasks: 12 });
  });
});

describe("TENANT_MAX_USERS", () => {
  const person = (i: number) => ({ email: `u${i}.${crypto.randomUUID().slice(0, 8)}@quota.test`, password: "long enough", first_name: "U", last_name: `${i}` });

  test("20 concurrent user creations through two instances with 2 slots left: exactly 2 get 201; deleting one frees its slot", async () => {
    const admin = await one.signUp();
    const people = Array.from({ length: 20 }, (_, i) => person(i));
    const replies = await Promise.all(people.map((body, i) => (i % 2 ? one : two).req("POST", "/users", { headers: admin.headers, body })));
    const made = replies.filter((r) => r.status === 201);
    expect(made).toHaveLength(2);
    expect(replies.filter((r) => r.status === 403).map((r) => r.body.error.details)).toEqual(Array(18).fill({ quota: "TENANT_MAX_USERS", limit: 3 }));
    // The refused users left no account behind.
    const emails = people.map((p) => p.email);
    expect((await one.sql`select count(*)::int as n from public.accounts where email = any(${one.sql.array(emails, "TEXT")})`)[0]!.n).toBe(2);
    expect(await counts(one.sql, admin.schema)).toMatchObject({ users: 3, real_users: 3 });

    expect((await one.req("DELETE", `/users/${made[0]!.body.id}`, { headers: admin.headers })).status).toBe(204);
    expect(await counts(one.sql, admin.schema)).toMatchObject({ users: 2, real_users: 2 });
    expect((await one.req("POST", "/users", { headers: admin.headers, body: person(100) })).status).toBe(201);
  });

  test("a refused user's email stays free for another tenant", async () => {
    const full = await one.signUp();
    for (let i = 0; i < 2; i++) expect((await one.req("POST", "/users", { headers: full.headers, body: person(i) })).status).toBe(201);
    const wanted = person(7);
    expect((await one.req("POST", "/users", { headers: full.headers, body: wanted })).status).toBe(403);
    const elsewhere = await one.signUp();
    expect((await one.req("POST", "/users", { headers: elsewhere.headers, body: wanted })).status).toBe(201);
  });
});

test("the migration that adds the counts starts them from the rows already there", async () => {
  const { sql } = one;
  const schema = uniqueSchema("q");
  one.track(schema);
  await createTenant(sql, source.tenant.slice(0, 1), { name: "Before counts", schema });
  await sql`insert into ${sql(schema)}.users (email, password_hash, first_name, last_name) values ('a@before.test', 'x', 'A', 'B'), ('b@before.test', 'x', 'A', 'B')`;
  await sql`insert into ${sql(schema)}.tasks (title) select 'old ' || i from generate_series(1, 5) i`;
  await migrateTenant(sql, source.tenant, schema);
  expect(await counts(sql, schema)).toEqual({ users: 2, tasks: 5, real_users: 2, real_tasks: 5 });
});
