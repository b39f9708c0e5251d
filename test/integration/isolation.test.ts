// Tenant isolation, route by route: every credential that is not this tenant's own live session
// is refused with the right status, and nothing changes in either tenant.
import { beforeAll, describe, expect, test } from "bun:test";
import { issueToken } from "../../src/services/auth";
import { testApp, type TestApp } from "../support/http";

const api = await testApp();
let a: Awaited<ReturnType<TestApp["signUp"]>>;
let b: Awaited<ReturnType<TestApp["signUp"]>>;
let taskId: number;
let memberId: number;
const bad: Record<string, () => Promise<Record<string, string>>> = {};

async function snapshot(schema: string) {
  const { sql } = api;
  return JSON.stringify([
    await sql`select * from ${sql(schema)}.tasks order by id`,
    await sql`select id, email, first_name, last_name, role, updated_at from ${sql(schema)}.users order by id`,
    await sql`select token_hash, user_id from ${sql(schema)}.sessions order by token_hash`,
    await sql`select email from public.accounts a join public.tenants t on t.id = a.tenant_id where t.schema = ${schema} order by email`,
  ]);
}

beforeAll(async () => {
  [a, b] = [await api.signUp(), await api.signUp()];
  taskId = (await api.req("POST", "/tasks", { headers: a.headers, body: { title: "A's secret task" } })).body.id;
  memberId = (
    await api.req("POST", "/users", {
      headers: a.headers,
      body: { email: `m.${crypto.randomUUID().slice(0, 8)}@a.test`, password: "member password", first_name: "M", last_name: "Ember" },
    })
  ).body.id;
  const revoked = (await api.req("POST", "/auth/login", { body: { email: a.email, password: a.password } })).body.token;
  expect((await api.req("POST", "/auth/logout", { headers: { tenant: a.schema, authorization: `Bearer ${revoked}` } })).status).toBe(204);
  const expired = await issueToken(api.sql, a.schema, a.user.id, -1);
  const bearer = (token: string) => ({ tenant: a.schema, authorization: `Bearer ${token}` });

  bad["B's token with A's tenant header"] = async () => bearer(b.token);
  bad["A's token with B's tenant header"] = async () => ({ tenant: b.schema, authorization: `Bearer ${a.token}` });
  bad["no token"] = async () => ({ tenant: a.schema });
  bad["a made-up token"] = async () => bearer(Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString("base64url"));
  bad["an expired token"] = async () => bearer(expired.token);
  bad["a revoked token"] = async () => bearer(revoked);
  bad["the seed's forged base64(tenant.date) token"] = async () => bearer(btoa(`${a.schema}.${new Date().toISOString().slice(0, 10)}`));
  bad["a Basic credential"] = async () => ({ tenant: a.schema, authorization: `Basic ${btoa("admin:admin")}` });
  bad["A's token without the Bearer scheme"] = async () => ({ tenant: a.schema, authorization: a.token });
});

const routes = (): [string, string, unknown?][] => [
  ["GET", "/auth/me"],
  ["POST", "/auth/logout"],
  ["GET", "/users"],
  ["GET", `/users/${memberId}`],
  ["POST", "/users", { email: "intruder@evil.test", password: "intruder password", first_name: "I", last_name: "N" }],
  ["PATCH", `/users/${memberId}`, { first_name: "Pwned" }],
  ["DELETE", `/users/${memberId}`],
  ["GET", "/tasks"],
  ["POST", "/tasks", { title: "planted" }],
  ["GET", `/tasks/${taskId}`],
  ["PATCH", `/tasks/${taskId}`, { title: "changed", completed: true }],
  ["DELETE", `/tasks/${taskId}`],
  ["DELETE", "/tasks?completed=true"],
  ["DELETE", "/tasks"],
];

describe("every tenant route refuses foreign, missing, made-up, expired and revoked credentials", () => {
  test("401 with a Bearer challenge, and both tenants unchanged", async () => {
    const before = [await snapshot(a.schema), await snapshot(b.schema)];
    for (const [name, headers] of Object.entries(bad)) {
      for (const [method, path, body] of routes()) {
        const r = await api.req(method, path, { headers: await headers(), body });
        expect({ name, method, path, status: r.status }).toEqual({ name, method, path, status: 401 });
        expect(r.headers.get("www-authenticate")).toStartWith("Bearer");
        expect(r.body.error.code).toBe("unauthorized");
      }
    }
    expect([await snapshot(a.schema), await snapshot(b.schema)]).toEqual(before);
  });

  test("with its own token, B still cannot see A's rows: ids are per tenant", async () => {
    expect((await api.req("GET", `/tasks/${taskId}`, { headers: b.headers })).status).toBe(404);
    const listed = await api.req("GET", "/tasks", { headers: b.headers });
    expect(listed.body).toEqual([]);
    const users = await api.req("GET", "/users", { headers: b.headers });
    expect(users.body.map((u: { email: string }) => u.email)).toEqual([b.email]);
  });
});

describe("the tenant header", () => {
  test("hostile values are refused with 400 or 404, touching nothing", async () => {
    const before = await snapshot(a.schema);
    const hostile: [string, number][] = [
      ["a;drop schema public", 400],
      ["public", 400],
      ["pg_catalog", 400],
      ["information_schema", 400],
      [`${a.schema}"`, 400],
      ["'; select 1; --", 400],
      ["x".repeat(80), 400],
      ["ünïcödé", 400],
      ["Upper", 400],
      ["", 400],
      ["nobody_here", 404],
    ];
    for (const [tenant, status] of hostile) {
      const r = await api.req("GET", "/tasks", { headers: { tenant, authorization: `Bearer ${a.token}` } });
      expect({ tenant, status: r.status }).toEqual({ tenant, status });
      expect(r.body.error.code).toBeString();
    }
    const [row] = await api.sql`select count(*)::int as n from pg_namespace where nspname = 'public'`;
    expect(row!.n).toBe(1);
    expect(await snapshot(a.schema)).toEqual(before);
  });

  test("without the header, the Host header picks a tenant registered for it", async () => {
    const host = `h${crypto.randomUUID().slice(0, 8)}.todo.test`;
    await api.sql`update public.tenants set host = ${host} where schema = ${a.schema}`;
    const viaHost = await api.req("GET", "/tasks", { headers: { host, authorization: `Bearer ${a.token}` } });
    expect(viaHost.status).toBe(200);
    expect(viaHost.body.map((t: { id: number }) => t.id)).toContain(taskId);
    const otherToken = await api.req("GET", "/tasks", { headers: { host, authorization: `Bearer ${b.token}` } });
    expect(otherToken.status).toBe(401);
    const unknownHost = await api.req("GET", "/tasks", { headers: { host: "nobody.todo.test", authorization: `Bearer ${a.token}` } });
    expect(unknownHost.status).toBe(400);
    expect(unknownHost.body.error.code).toBe("tenant_required");
  });
});

describe("revocation", () => {
  test("a token revoked on this instance is refused at once, even though it was cached", async () => {
    const login = await api.req("POST", "/auth/login", { body: { email: a.email, password: a.password } });
    const headers = { tenant: a.schema, authorization: `Bearer ${login.body.token}` };
    expect((await api.req("GET", "/tasks", { headers })).status).toBe(200);
    expect((await api.req("POST", "/auth/logout", { headers })).status).toBe(204);
    expect((await api.req("GET", "/tasks", { headers })).status).toBe(401);
  });

  test("another instance notices within its cache lifetime (AUTH_CACHE_SECONDS), and at once with 0", async () => {
    const other = await testApp({ authCacheSeconds: 1 });
    const uncached = await testApp({ authCacheSeconds: 0 });
    const login = await api.req("POST", "/auth/login", { body: { email: a.email, password: a.password } });
    const headers = { tenant: a.schema, authorization: `Bearer ${login.body.token}` };
    expect((await other.req("GET", "/auth/me", { headers })).status).toBe(200);
    expect((await api.req("POST", "/auth/logout", { headers })).status).toBe(204);
    expect((await uncached.req("GET", "/auth/me", { headers })).status).toBe(401);
    expect((await other.req("GET", "/auth/me", { headers })).status).toBe(200); // still cached there
    await Bun.sleep(1100);
    expect((await other.req("GET", "/auth/me", { headers })).status).toBe(401);
  });
});
