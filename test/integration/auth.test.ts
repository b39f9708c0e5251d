// Register, login, logout, me: all-or-nothing sign-up, argon2id hashes, only token hashes stored.
import { describe, expect, test } from "bun:test";
import { testApp } from "../support/http";

const api = await testApp();
const tenants = async () => (await api.sql`select count(*)::int as n from public.tenants`)[0]!.n;

describe("register", () => {
  test("creates the tenant, its first admin and a token", async () => {
    const me = await api.signUp({ company_name: "Ünïcode & Sons" });
    expect(me.schema).toMatch(/^unicode_sons_[0-9a-f]{6}$/);
    expect(me.user).toMatchObject({ role: "admin", email: me.email });
    expect(me.user.password_hash).toBeUndefined();
    const whoami = await api.req("GET", "/auth/me", { headers: me.headers });
    expect(whoami.body).toMatchObject({ user: { id: me.user.id, email: me.email }, tenant: { schema: me.schema, name: "Ünïcode & Sons" } });
  });

  test("stores an argon2id hash and a SHA-256 of the token, never either secret", async () => {
    const me = await api.signUp();
    const [user] = await api.sql`select password_hash from ${api.sql(me.schema)}.users where id = ${me.user.id}`;
    expect(user!.password_hash).toStartWith("$argon2id$");
    expect(user!.password_hash).not.toContain(me.password);
    const sessions = await api.sql`select token_hash from ${api.sql(me.schema)}.sessions`;
    expect(sessions).toHaveLength(1);
    expect(Buffer.from(sessions[0]!.token_hash).equals(new Bun.CryptoHasher("sha256").update(me.token).digest())).toBe(true);
  });

  test("a taken email (any case) is a 409 and leaves no tenant behind", async () => {
    const first = await api.signUp();
    const before = await tenants();
    const again = await api.req("POST", "/auth/register", {
      body: { company_name: "Copycat", email: first.email.toUpperCase(), password: "another password", first_name: "C", last_name: "C" },
    });
    expect(again.status).toBe(409);
    expect(again.body.error.code).toBe("conflict");
    expect(await tenants()).toBe(before);
  });

  test("weak passwords, bad emails and missing fields are a 422 naming the field, and create nothing", async () => {
    const before = await tenants();
    const base = { company_name: "X", email: "x@y.test", password: "long enough", first_name: "A", last_name: "B" };
    for (const [field, value] of [["password", "short"], ["email", "not-an-email"], ["first_name", "   "], ["company_name", ""]] as const) {
      const r = await api.req("POST", "/auth/register", { body: { ...base, [field]: value } });
      expect({ field, status: r.status }).toEqual({ field, status: 422 });
      expect(r.body.error.details.map((d: { path: string }) => d.path)).toContain(`/${field}`);
    }
    const { last_name: _, ...missing } = base;
    expect((await api.req("POST", "/auth/register", { body: missing })).status).toBe(422);
    expect(await tenants()).toBe(before);
  });
});

describe("login and logout", () => {
  test("login is case-insensitive on the email and needs no tenant header", async () => {
    const me = await api.signUp();
    const r = await api.req("POST", "/auth/login", { body: { email: me.email.toUpperCase(), password: me.password } });
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ tenant: { schema: me.schema }, user: { id: me.user.id } });
    expect(r.body.token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(new Date(r.body.expires_at).getTime() - Date.now()).toBeGreaterThan((api.config.tokenTtlHours - 1) * 3_600_000);
    expect((await api.req("GET", "/tasks", { headers: { tenant: me.schema, authorization: `Bearer ${r.body.token}` } })).status).toBe(200);
  });

  test("a wrong password and an unknown email get the same 401", async () => {
    const me = await api.signUp();
    const wrong = await api.req("POST", "/auth/login", { body: { email: me.email, password: "not my password" } });
    const unknown = await api.req("POST", "/auth/login", { body: { email: "nobody@nowhere.test", password: "whatever it is" } });
    expect([wrong.status, unknown.status]).toEqual([401, 401]);
    expect(wrong.body).toEqual(unknown.body);
  });

  test("logout revokes only this token", async () => {
    const me = await api.signUp();
    const second = await api.req("POST", "/auth/login", { body: { email: me.email, password: me.password } });
    const secondHeaders = { tenant: me.schema, authorization: `Bearer ${second.body.token}` };
    expect((await api.req("POST", "/auth/logout", { headers: secondHeaders })).status).toBe(204);
    expect((await api.req("GET", "/auth/me", { headers: secondHeaders })).status).toBe(401);
    expect((await api.req("GET", "/auth/me", { headers: me.headers })).status).toBe(200);
  });

  test("a suspended tenant cannot log in or use its tokens (403), and keeps its data", async () => {
    const me = await api.signUp();
    await api.req("POST", "/tasks", { headers: me.headers, body: { title: "kept" } });
    const cc = { authorization: `Bearer ${api.config.adminToken}` };
    expect((await api.req("POST", `/cc/tenants/${me.schema}/suspend`, { headers: cc })).body.status).toBe("suspended");
    expect((await api.req("GET", "/tasks", { headers: me.headers })).status).toBe(403);
    expect((await api.req("POST", "/auth/login", { body: { email: me.email, password: me.password } })).status).toBe(403);
    await api.req("POST", `/cc/tenants/${me.schema}/resume`, { headers: cc });
    const tasks = await api.req("GET", "/tasks", { headers: me.headers });
    expect(tasks.body.map((t: { title: string }) => t.title)).toEqual(["kept"]);
  });
});
