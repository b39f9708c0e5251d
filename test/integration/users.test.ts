// Users and roles: admins manage users, members edit only their own name and password, the last
// admin stays, no response carries a hash.
import { describe, expect, test } from "bun:test";
import { source } from "../support/db";
import { testApp, type TestApp } from "../support/http";

const api = await testApp();
// Two more instances with connections of their own, so two changes really meet in PostgreSQL.
const rivals = await Promise.all([1, 2].map(() => testApp({ dbPoolMax: 2 }, source, { ownPool: true })));
type Tenant = Awaited<ReturnType<TestApp["signUp"]>>;

async function addMember(tenant: Tenant, role = "member") {
  const body = { email: `u.${crypto.randomUUID().slice(0, 8)}@team.test`, password: "member password", first_name: "Mem", last_name: "Ber", role };
  const created = await api.req("POST", "/users", { headers: tenant.headers, body });
  expect(created.status).toBe(201);
  const login = await api.req("POST", "/auth/login", { body: { email: body.email, password: body.password } });
  return { id: created.body.id as number, email: body.email, headers: { tenant: tenant.schema, authorization: `Bearer ${login.body.token}` } };
}

const noSecrets = (body: unknown) => expect(JSON.stringify(body)).not.toMatch(/password|token_hash|argon2/);

describe("roles", () => {
  test("members cannot create, delete or change others (403), and nothing changes", async () => {
    const team = await api.signUp();
    const member = await addMember(team);
    const before = await api.req("GET", "/users", { headers: team.headers });
    const attempts: [string, string, unknown?][] = [
      ["POST", "/users", { email: "new@team.test", password: "some password", first_name: "N", last_name: "N" }],
      ["DELETE", `/users/${team.user.id}`],
      ["PATCH", `/users/${team.user.id}`, { first_name: "Mallory" }],
      ["PATCH", `/users/${member.id}`, { role: "admin" }],
      ["PATCH", `/users/${member.id}`, { email: "elsewhere@team.test" }],
    ];
    for (const [method, path, body] of attempts) {
      const r = await api.req(method, path, { headers: member.headers, body });
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 403 });
    }
    expect(await api.req("GET", "/users", { headers: team.headers })).toMatchObject({ body: before.body });
  });

  test("a member edits their own name and password", async () => {
    const team = await api.signUp();
    const member = await addMember(team);
    const r = await api.req("PATCH", `/users/${member.id}`, { headers: member.headers, body: { first_name: "Renamed", password: "a brand new password" } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ first_name: "Renamed", last_name: "Ber", role: "member" });
    noSecrets(r.body);
    expect((await api.req("POST", "/auth/login", { body: { email: member.email, password: "a brand new password" } })).status).toBe(200);
    expect((await api.req("POST", "/auth/login", { body: { email: member.email, password: "member password" } })).status).toBe(401);
  });

  test("the last admin can be neither demoted nor removed; with two, one can go", async () => {
    const team = await api.signUp();
    expect((await api.req("PATCH", `/users/${team.user.id}`, { headers: team.headers, body: { role: "member" } })).status).toBe(409);
    expect((await api.req("DELETE", `/users/${team.user.id}`, { headers: team.headers })).status).toBe(409);
    const second = await addMember(team, "admin");
    expect((await api.req("PATCH", `/users/${team.user.id}`, { headers: second.headers, body: { role: "member" } })).status).toBe(200);
    expect((await api.req("DELETE", `/users/${second.id}`, { headers: second.headers })).status).toBe(409);
  });

  test("a demoted admin loses admin rights at once; a deleted user's token stops working", async () => {
    const team = await api.signUp();
    const other = await addMember(team, "admin");
    expect((await api.req("DELETE", "/tasks", { headers: other.headers })).status).toBe(204);
    await api.req("PATCH", `/users/${other.id}`, { headers: team.headers, body: { role: "member" } });
    expect((await api.req("DELETE", "/tasks", { headers: other.headers })).status).toBe(403);
    expect((await api.req("DELETE", `/users/${other.id}`, { headers: team.headers })).status).toBe(204);
    expect((await api.req("GET", "/tasks", { headers: other.headers })).status).toBe(401);
    expect((await api.req("POST", "/auth/login", { body: { email: other.email, password: "member password" } })).status).toBe(401);
  });
});

describe("accounts", () => {
  test("emails are unique across tenants, case-insensitively; a changed email logs in", async () => {
    const [one, two] = [await api.signUp(), await api.signUp()];
    const taken = await api.req("POST", "/users", {
      headers: two.headers,
      body: { email: one.email.toUpperCase(), password: "some password", first_name: "D", last_name: "U" },
    });
    expect(taken.status).toBe(409);
    const member = await addMember(two);
    const email = `changed.${crypto.randomUUID().slice(0, 8)}@team.test`;
    expect((await api.req("PATCH", `/users/${member.id}`, { headers: two.headers, body: { email } })).body.email).toBe(email);
    expect((await api.req("POST", "/auth/login", { body: { email, password: "member password" } })).body.tenant.schema).toBe(two.schema);
    expect((await api.req("PATCH", `/users/${member.id}`, { headers: two.headers, body: { email: one.email } })).status).toBe(409);
  });

  test("list searches, sorts and pages like an in-memory model, without secrets", async () => {
    const team = await api.signUp();
    for (let i = 0; i < 6; i++) await addMember(team);
    const all = (await api.req("GET", "/users?limit=100", { headers: team.headers })).body as { id: number; email: string; first_name: string; created_at: string }[];
    expect(all).toHaveLength(7);
    noSecrets(all);
    const byEmail = [...all].sort((a, b) => (a.email < b.email ? 1 : -1)).map((u) => u.id);
    expect((await api.req("GET", "/users?sort=-email&limit=100", { headers: team.headers })).body.map((u: { id: number }) => u.id)).toEqual(byEmail);
    const page = await api.req("GET", "/users?sort=-email&limit=3&offset=3", { headers: team.headers });
    expect(page.body.map((u: { id: number }) => u.id)).toEqual(byEmail.slice(3, 6));
    expect(page.headers.get("x-total-count")).toBe("7");
    const search = await api.req("GET", `/users?q=${encodeURIComponent(team.email.slice(0, 8).toUpperCase())}`, { headers: team.headers });
    expect(search.body.map((u: { id: number }) => u.id)).toEqual([team.user.id]);
    const wildcard = await api.req("GET", "/users?q=%25", { headers: team.headers });
    expect(wildcard.body).toEqual([]);
    // A filter and a page at once: the total counts the filter's matches, not the page.
    const members = await api.req("GET", "/users?role=member&sort=email&limit=2", { headers: team.headers });
    expect(members.body.map((u: { role: string }) => u.role)).toEqual(["member", "member"]);
    expect(members.headers.get("x-total-count")).toBe("6");
    expect((await api.req("GET", `/users/${team.user.id}`, { headers: team.headers })).body.email).toBe(team.email);
    expect((await api.req("GET", "/users/999999", { headers: team.headers })).status).toBe(404);
  });
});

describe("sessions follow the credentials", () => {
  const login = async (email: string, password: string, schema: string) => {
    const r = await api.req("POST", "/auth/login", { body: { email, password } });
    return { tenant: schema, authorization: `Bearer ${r.body.token}` };
  };
  const me = (headers: Record<string, string>) => api.req("GET", "/auth/me", { headers }).then((r) => r.status);

  test("a new password ends the user's other sessions at once; the session that changed it stays", async () => {
    const team = await api.signUp();
    const other = await login(team.email, team.password, team.schema);
    expect(await me(other)).toBe(200); // cached on this instance: the eviction must reach it
    expect((await api.req("PATCH", `/users/${team.user.id}`, { headers: team.headers, body: { password: "a brand new password" } })).status).toBe(200);
    expect([await me(team.headers), await me(other)]).toEqual([200, 401]);
    expect((await api.req("POST", "/auth/login", { body: { email: team.email, password: team.password } })).status).toBe(401);
  });

  test("a new email ends the other sessions too; an admin's reset of someone else ends all of theirs", async () => {
    const team = await api.signUp();
    const member = await addMember(team);
    const second = await login(member.email, "member password", team.schema);
    const email = `moved.${crypto.randomUUID().slice(0, 8)}@team.test`;
    expect((await api.req("PATCH", `/users/${member.id}`, { headers: team.headers, body: { email } })).status).toBe(200);
    expect([await me(member.headers), await me(second)]).toEqual([401, 401]);
    const third = await login(email, "member password", team.schema);
    expect(await me(third)).toBe(200);
    expect((await api.req("PATCH", `/users/${member.id}`, { headers: team.headers, body: { password: "reset by the admin" } })).status).toBe(200);
    expect(await me(third)).toBe(401);
    expect(await me(team.headers)).toBe(200);
  });
});

describe("concurrent admin changes", () => {
  test("two admins demoting (or deleting) each other at once: one wins, the last admin stays, never a 500", async () => {
    const call = (i: number, method: string, path: string, headers: Record<string, string>, body?: unknown) =>
      rivals[i]!.req(method, path, { headers, body }).then((r) => r.status);
    for (let round = 0; round < 10; round++) {
      const team = await api.signUp();
      const second = await addMember(team, "admin");
      const change = round % 2 ? (i: number, id: number, h: Record<string, string>) => call(i, "DELETE", `/users/${id}`, h) : (i: number, id: number, h: Record<string, string>) => call(i, "PATCH", `/users/${id}`, h, { role: "member" });
      const statuses = await Promise.all([change(0, second.id, team.headers), change(1, team.user.id, second.headers)]);
      expect(statuses.every((s) => s < 500)).toBe(true);
      const admins = await api.sql`select count(*)::int as n from ${api.sql(team.schema)}.users where role = 'admin'`;
      expect(admins[0].n).toBeGreaterThanOrEqual(1);
    }
  });
});

describe("conditional requests", () => {
  test("a user's ETag: If-None-Match → 304; a stale If-Match → 412 and nothing changes; the list's ETag follows its rows", async () => {
    const team = await api.signUp();
    const member = await addMember(team);
    const path = `/users/${member.id}`;
    const read = await api.req("GET", path, { headers: team.headers });
    const etag = read.headers.get("etag")!;
    expect(await api.req("GET", path, { headers: { ...team.headers, "if-none-match": etag } })).toMatchObject({ status: 304, body: undefined });
    const list = (await api.req("GET", "/users", { headers: team.headers })).headers.get("etag")!;
    expect((await api.req("GET", "/users", { headers: { ...team.headers, "if-none-match": list } })).status).toBe(304);

    const renamed = await api.req("PATCH", path, { headers: { ...team.headers, "if-match": etag }, body: { first_name: "Renamed" } });
    expect(renamed.status).toBe(200);
    expect(renamed.headers.get("etag")).not.toBe(etag);
    const stale = await api.req("PATCH", path, { headers: { ...team.headers, "if-match": etag }, body: { first_name: "Lost" } });
    expect(stale).toMatchObject({ status: 412, body: { error: { code: "precondition_failed" } } });
    expect((await api.req("DELETE", path, { headers: { ...team.headers, "if-match": etag } })).status).toBe(412);
    expect((await api.req("GET", path, { headers: team.headers })).body.first_name).toBe("Renamed");
    expect((await api.req("GET", "/users", { headers: { ...team.headers, "if-none-match": list } })).status).toBe(200);
    expect((await api.req("DELETE", path, { headers: { ...team.headers, "if-match": renamed.headers.get("etag")! } })).status).toBe(204);
  });
});

describe("Idempotency-Key", () => {
  test("POST /users retried with its key: the first 201 again, one user; another password under that key → 422", async () => {
    const team = await api.signUp();
    const headers = { ...team.headers, "idempotency-key": crypto.randomUUID() };
    const body = { email: `k.${crypto.randomUUID().slice(0, 8)}@team.test`, password: "a member password", first_name: "Kay", last_name: "Tee" };
    const first = await api.req("POST", "/users", { headers, body });
    expect(first.status).toBe(201);
    const again = await api.req("POST", "/users", { headers, body });
    expect({ status: again.status, etag: again.headers.get("etag"), body: again.body }).toEqual({ status: 201, etag: first.headers.get("etag"), body: first.body });
    noSecrets(again.body);
    const other = await api.req("POST", "/users", { headers, body: { ...body, password: "another password" } });
    expect(other).toMatchObject({ status: 422, body: { error: { code: "idempotency_key_reused" } } });
    expect((await api.req("GET", "/users", { headers: team.headers })).body).toHaveLength(2);
    // Nothing derived from the password but its argon2 hash is kept with the key.
    const [stored] = await api.sql`select secret, body from ${api.sql(team.schema)}.idempotency_keys`;
    expect(stored.secret).toStartWith("$argon2id$");
    expect(stored.body).not.toContain("password");
  });
});
