// The public edge: shared rate limits (across instances and processes), who the client is
// (TRUST_PROXY), the registration policy and TENANT_RATE. Every test counts for an address of its
// own (X-Forwarded-For through a trusted hop), so runs and files never share a window.
import { faker } from "@faker-js/faker";
import { afterAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { Config } from "../../src/config";
import { freePort } from "../../src/db/embedded";
import { deleteEndedWindows } from "../../src/db/limits";
import { sha256 } from "../../src/digest";
import { dropTenant } from "../../src/services/tenants";
import { database, source } from "../support/db";
import { testApp, type Reply, type TestApp } from "../support/http";

const byte = () => Math.floor(Math.random() * 256);
const randomAddress = () => `10.${byte()}.${byte()}.${byte()}`;
const from = (address: string) => ({ "x-forwarded-for": address });
const rate = (limit: number, window: number) => ({ limit, window });
const behindProxy = (limits: Config["rate"], extra: Partial<Config> = {}) => testApp({ rate: limits, trustProxy: 1, ...extra });

function registration(company = faker.company.name()) {
  return {
    company_name: company,
    email: `${crypto.randomUUID().slice(0, 8)}@limits.test`,
    password: "correct horse battery",
    first_name: faker.person.firstName(),
    last_name: faker.person.lastName(),
  };
}

const statuses = (replies: { status: number }[]) => replies.reduce<Record<number, number>>((n, r) => ({ ...n, [r.status]: (n[r.status] ?? 0) + 1 }), {});
const created = (api: TestApp, replies: Reply[]) => replies.filter((r) => r.status === 201).forEach((r) => api.track(r.body.tenant.schema));
const companies = async (api: TestApp, prefix: string) => (await api.sql`select count(*)::int as n from public.tenants where name like ${`${prefix}%`}`)[0]!.n;

describe("RATE_REGISTER", () => {
  test("60 rapid sign-ups from one client through two instances: 5 × 201, 55 × 429 with Retry-After and the RateLimit headers, no tenant from a refused one", async () => {
    const limits = { register: rate(5, 600) };
    const [one, two] = [await behindProxy(limits), await testApp({ rate: limits, trustProxy: 1 }, source, { ownPool: true })];
    const address = randomAddress();
    const prefix = `Limited ${address} `;
    const replies = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (i % 2 ? one : two).req("POST", "/auth/register", { headers: from(address), body: registration(`${prefix}${i}`) })),
    );
    created(one, replies);
    expect(statuses(replies)).toEqual({ 201: 5, 429: 55 });
    expect(await companies(one, prefix)).toBe(5);

    const refused = replies.find((r) => r.status === 429)!;
    const wait = Number(refused.headers.get("retry-after"));
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(600);
    expect(refused.body.error).toEqual({
      code: "rate_limited",
      message: `too many sign-ups from this address; try again in ${wait} s`,
      details: { policy: "register", limit: 5, window: 600, retry_after: wait },
    });
    expect(refused.headers.get("ratelimit-policy")).toBe('"register";q=5;w=600');
    expect(refused.headers.get("ratelimit")).toBe(`"register";r=0;t=${wait}`);
    const signedUp = replies.find((r) => r.status === 201)!;
    expect(signedUp.headers.get("ratelimit-policy")).toBe('"register";q=5;w=600');
    expect(signedUp.headers.get("ratelimit")).toMatch(/^"register";r=[0-4];t=\d+$/);

    // Another client has its own window.
    const other = await one.req("POST", "/auth/register", { headers: from(randomAddress()), body: registration() });
    created(one, [other]);
    expect(other.status).toBe(201);
  });

  test("a taken email still answers 409, but each answer spends the client's sign-ups", async () => {
    const api = await behindProxy({ register: rate(3, 600) });
    const address = randomAddress();
    const first = await api.req("POST", "/auth/register", { headers: from(address), body: registration() });
    created(api, [first]);
    const again = { ...registration(), email: first.body.user.email };
    const probes = [];
    for (let i = 0; i < 3; i++) probes.push(await api.req("POST", "/auth/register", { headers: from(address), body: again }));
    expect(probes.map((r) => r.status)).toEqual([409, 409, 429]);
  });
});

describe("REGISTRATION=closed", () => {
  test("sign-up answers 403 registration_closed; operators still create tenants", async () => {
    const api = await testApp({ registration: "closed" });
    const r = await api.req("POST", "/auth/register", { body: registration() });
    expect(r.status).toBe(403);
    expect(r.body.error.code).toBe("registration_closed");
    const schema = `closed_${crypto.randomUUID().slice(0, 8)}`;
    api.track(schema);
    const cc = await api.req("POST", "/cc/tenants", { headers: { authorization: `Bearer ${api.config.adminToken}` }, body: { name: "By hand", schema } });
    expect(cc.status).toBe(201);
  });
});

describe("RATE_LOGIN_EMAIL and RATE_LOGIN_IP", () => {
  test("50 wrong passwords for one email: 10 × 401, then 429, and the right password too until the window ends; others sign in meanwhile", async () => {
    const api = await behindProxy({ loginEmail: rate(10, 900), loginIp: rate(1000, 60) });
    const victim = await api.signUp();
    const bystander = await api.signUp();
    const address = randomAddress();
    const login = (email: string, password: string, at = address) => api.req("POST", "/auth/login", { headers: from(at), body: { email, password } });

    const guesses = await Promise.all(Array.from({ length: 50 }, (_, i) => login(victim.email, `guess number ${i}`)));
    expect(statuses(guesses)).toEqual({ 401: 10, 429: 40 });
    const refused = guesses.find((r) => r.status === 429)!;
    expect(refused.body.error.details).toMatchObject({ policy: "login-email", limit: 10, window: 900 });
    expect(refused.headers.get("ratelimit-policy")).toBe('"login-ip";q=1000;w=60, "login-email";q=10;w=900');
    expect(refused.headers.get("ratelimit")).toMatch(/^"login-ip";r=\d+;t=\d+, "login-email";r=0;t=\d+$/);

    // Guessing gains nothing: the right password is refused too, from anywhere.
    const right = await login(victim.email, victim.password, randomAddress());
    expect(right.status).toBe(429);
    expect(Number(right.headers.get("retry-after"))).toBeGreaterThan(0);
    // Another user, even from the guesser's address, signs in.
    expect((await login(bystander.email, bystander.password)).status).toBe(200);

    // The window ends (moved, not waited for): the right password works again.
    await api.sql`update public.rate_limits set resets_at = now() where policy = 'login-email' and subject = ${sha256(victim.email)}`;
    expect((await login(victim.email, victim.password)).status).toBe(200);
  });

  test("an unknown email is limited exactly like a known one, so a 429 tells nothing", async () => {
    const api = await behindProxy({ loginEmail: rate(3, 900) });
    const nobody = `nobody.${crypto.randomUUID().slice(0, 8)}@limits.test`;
    const replies = [];
    for (let i = 0; i < 4; i++) replies.push(await api.req("POST", "/auth/login", { headers: from(randomAddress()), body: { email: nobody, password: "whatever it is" } }));
    expect(replies.map((r) => r.status)).toEqual([401, 401, 401, 429]);
  });

  test("a right password is no failure: signing in often never locks the account out", async () => {
    const api = await behindProxy({ loginEmail: rate(2, 900) });
    const me = await api.signUp();
    for (let i = 0; i < 5; i++) {
      const r = await api.req("POST", "/auth/login", { headers: from(randomAddress()), body: { email: me.email, password: me.password } });
      expect(r.status).toBe(200);
      expect(r.headers.get("ratelimit")).toMatch(/^"login-email";r=2;t=\d+$/);
    }
    const wrong = { email: me.email, password: "not my password" };
    const after = [];
    for (let i = 0; i < 3; i++) after.push((await api.req("POST", "/auth/login", { headers: from(randomAddress()), body: wrong })).status);
    expect(after).toEqual([401, 401, 429]);
  });

  test("attempts per address: the 6th of 5 is a 429 whatever the email; another address is not affected", async () => {
    const api = await behindProxy({ loginIp: rate(5, 60) });
    const me = await api.signUp();
    const address = randomAddress();
    const tries = [];
    for (let i = 0; i < 6; i++)
      tries.push(await api.req("POST", "/auth/login", { headers: from(address), body: { email: `x${i}.${crypto.randomUUID().slice(0, 6)}@limits.test`, password: "whatever it is" } }));
    expect(tries.map((r) => r.status)).toEqual([401, 401, 401, 401, 401, 429]);
    expect(tries[5]!.body.error.details.policy).toBe("login-ip");
    expect((await api.req("POST", "/auth/login", { headers: from(address), body: { email: me.email, password: me.password } })).status).toBe(429);
    expect((await api.req("POST", "/auth/login", { headers: from(randomAddress()), body: { email: me.email, password: me.password } })).status).toBe(200);
  });
});

describe("RATE_USERS", () => {
  test("creating users and changing emails (what can answer 'taken') count per address; other edits do not", async () => {
    const api = await behindProxy({ users: rate(2, 60) });
    const admin = await api.signUp();
    const address = randomAddress();
    const headers = { ...admin.headers, ...from(address) };
    const person = () => ({ email: `${crypto.randomUUID().slice(0, 8)}@limits.test`, password: "long enough", first_name: "A", last_name: "B" });
    const made = await api.req("POST", "/users", { headers, body: person() });
    expect(made.status).toBe(201);
    expect(made.headers.get("ratelimit-policy")).toBe('"users";q=2;w=60');
    expect((await api.req("POST", "/users", { headers, body: { ...person(), email: admin.email } })).status).toBe(409);
    expect((await api.req("POST", "/users", { headers, body: person() })).status).toBe(429);
    expect((await api.req("PATCH", `/users/${made.body.id}`, { headers, body: { first_name: "Renamed" } })).status).toBe(200);
    expect((await api.req("PATCH", `/users/${made.body.id}`, { headers, body: { email: person().email } })).status).toBe(429);
    expect((await api.req("PATCH", `/users/${made.body.id}`, { headers: { ...admin.headers, ...from(randomAddress()) }, body: { email: person().email } })).status).toBe(200);
  });
});

describe("the client's address", () => {
  // A real socket (127.0.0.1), counted with a limit so high that only its remainder is read.
  async function listening(overrides: Partial<Config>) {
    const api = await testApp({ rate: { loginIp: rate(1_000_000, 3600) }, ...overrides });
    api.app.listen({ port: 0, hostname: "127.0.0.1" });
    afterAll(() => api.app.stop());
    return async (forwardedFor: string) => {
      const r = await fetch(`http://127.0.0.1:${api.app.server!.port}/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-forwarded-for": forwardedFor },
        body: JSON.stringify({ email: "nobody@limits.test", password: "whatever it is" }),
      });
      expect(r.status).toBe(401);
      return Number(/r=(\d+)/.exec(r.headers.get("ratelimit")!)![1]);
    };
  }

  test("without TRUST_PROXY a forged X-Forwarded-For changes nothing: two claimed addresses share the socket's count", async () => {
    const login = await listening({ trustProxy: 0 });
    const first = await login(randomAddress());
    expect(await login(randomAddress())).toBe(first - 1);
  });

  test("with TRUST_PROXY naming the proxy, its X-Forwarded-For is the client", async () => {
    const login = await listening({ trustProxy: ["127.0.0.1/32"] });
    expect(await login(randomAddress())).toBe(999_999);
    expect(await login(randomAddress())).toBe(999_999);
  });
});

describe("TENANT_RATE", () => {
  test("a tenant over its rate gets 429 with Retry-After; other tenants are served; strangers cannot spend it", async () => {
    const api = await testApp({ rate: { tenant: 1 } });
    const [busy, quiet, guarded] = [await api.signUp(), await api.signUp(), await api.signUp()];
    const replies = await Promise.all(Array.from({ length: 20 }, () => api.req("GET", "/tasks", { headers: busy.headers })));
    expect(replies.some((r) => r.status === 200)).toBe(true);
    const refused = replies.filter((r) => r.status !== 200);
    expect(refused.length).toBeGreaterThan(0);
    for (const r of refused) {
      expect(r.status).toBe(429);
      expect(Number(r.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
      expect(r.headers.get("ratelimit-policy")).toBe('"tenant";q=1;w=1');
    }
    expect((await api.req("GET", "/tasks", { headers: quiet.headers })).status).toBe(200);

    const stranger = { tenant: guarded.schema, authorization: `Bearer ${"x".repeat(43)}` };
    const probes = await Promise.all(Array.from({ length: 10 }, () => api.req("GET", "/tasks", { headers: stranger })));
    expect(probes.map((r) => r.status)).toEqual(Array(10).fill(401));
    expect((await api.req("GET", "/tasks", { headers: guarded.headers })).status).toBe(200);
  });

  test("off (the default): no count on the hot path", async () => {
    const api = await testApp();
    expect(api.config.rate.tenant).toBeUndefined();
    const me = await api.signUp();
    const replies = await Promise.all(Array.from({ length: 30 }, () => api.req("GET", "/tasks", { headers: me.headers })));
    expect(statuses(replies)).toEqual({ 200: 30 });
  });
});

test("windows that ended are forgotten", async () => {
  const { sql } = await database();
  const [ended, open] = [sha256(crypto.randomUUID()), sha256(crypto.randomUUID())];
  await sql`insert into public.rate_limits (policy, subject, hits, resets_at) values ('test', ${ended}, 3, now() - interval '1 second'), ('test', ${open}, 3, now() + interval '1 hour')`;
  await deleteEndedWindows(sql);
  const left = await sql`select subject from public.rate_limits where policy = 'test' and subject in (${ended}, ${open})`;
  expect(left.map((r: { subject: Uint8Array }) => Buffer.from(r.subject).equals(open))).toEqual([true]);
  await sql`delete from public.rate_limits where policy = 'test' and subject = ${open}`;
});

describe("two server processes on one database", () => {
  test("60 rapid sign-ups through two `bun src/index.ts` behind a trusted proxy: 5 × 201, 55 × 429 with Retry-After", async () => {
    const { sql, url } = await database();
    const env = {
      ...process.env,
      DATABASE_URL: url,
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      ADMIN_TOKEN: "",
      WORKERS: "1",
      RATE_REGISTER: "5/10m",
      TRUST_PROXY: "127.0.0.1/32",
      REGISTRATION: "open",
    };
    const servers = await Promise.all(
      [0, 1].map(async () => {
        const port = await freePort();
        const proc = Bun.spawn(["bun", join(import.meta.dir, "../../src/index.ts")], { env: { ...env, PORT: String(port) }, stdout: "ignore", stderr: "inherit" });
        return { port, proc };
      }),
    );
    const made: string[] = [];
    try {
      for (const { port } of servers) {
        for (let i = 0; i < 200 && !(await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)); i++) await Bun.sleep(50);
      }
      const address = randomAddress();
      const replies = await Promise.all(
        Array.from({ length: 60 }, async (_, i) => {
          const r = await fetch(`http://127.0.0.1:${servers[i % 2]!.port}/auth/register`, {
            method: "POST",
            headers: { "content-type": "application/json", ...from(address) },
            body: JSON.stringify(registration()),
          });
          const body = (await r.json()) as { tenant?: { schema: string } };
          if (body.tenant) made.push(body.tenant.schema);
          return { status: r.status, retryAfter: r.headers.get("retry-after") };
        }),
      );
      expect(statuses(replies)).toEqual({ 201: 5, 429: 55 });
      expect(replies.filter((r) => r.status === 429).every((r) => Number(r.retryAfter) > 0)).toBe(true);
    } finally {
      for (const { proc } of servers) proc.kill("SIGTERM");
      await Promise.all(servers.map(({ proc }) => proc.exited));
      for (const schema of made) await dropTenant(sql, schema).catch(() => {});
    }
  });
});
