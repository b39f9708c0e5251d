// The audit trail: every write through /cc and the CLI leaves exactly one event, ok or failed,
// naming its actor (never the token); /cc/audit and `tenant-todo audit` read it back.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { cliActor } from "../../src/services/audit";
import { database, uniqueSchema } from "../support/db";
import { testApp } from "../support/http";

const api = await testApp();
const admin = { authorization: `Bearer ${api.config.adminToken}` };
const tokenActor = `admin-token:${new Bun.CryptoHasher("sha256").update(api.config.adminToken!).digest("hex").slice(0, 8)}`;

type Event = { id: number; at: string; actor: string; action: string; schema: string | null; outcome: string; details: Record<string, any> };

/** The events after `since` (an id), oldest first, for one schema or all. */
async function eventsSince(since: number, schema?: string): Promise<Event[]> {
  const rows = await api.sql`
    select id, at, actor, action, schema, outcome, details from public.audit_events
    where id > ${since} ${schema ? api.sql`and schema = ${schema}` : api.sql``} order by id`;
  return [...rows] as Event[];
}
const lastId = async () => (await api.sql`select coalesce(max(id), 0)::int as id from public.audit_events`)[0]!.id as number;

describe("/cc writes", () => {
  test("create, suspend, resume, migrate one, migrate all, drop: one event each, as the admin token's digest", async () => {
    const since = await lastId();
    const schema = uniqueSchema("aud");
    api.track(schema);
    const password = "operator password";
    const email = `ops.${crypto.randomUUID().slice(0, 8)}@audit.test`;
    expect((await api.req("POST", "/cc/tenants", { headers: admin, body: { name: "Audited", schema, admin: { email, password, first_name: "O", last_name: "P" } } })).status).toBe(201);
    expect((await api.req("POST", `/cc/tenants/${schema}/suspend`, { headers: admin })).status).toBe(200);
    expect((await api.req("POST", `/cc/tenants/${schema}/resume`, { headers: admin })).status).toBe(200);
    expect((await api.req("POST", `/cc/tenants/${schema}/migrate`, { headers: admin })).status).toBe(200);
    expect((await api.req("POST", `/cc/tenants/${schema}/migrate`, { headers: admin, body: { dry_run: true } })).status).toBe(200);
    expect((await api.req("POST", "/cc/migrate", { headers: admin, body: { schemas: [schema] } })).status).toBe(200);
    expect((await api.req("DELETE", `/cc/tenants/${schema}?confirm=${schema}`, { headers: admin })).status).toBe(204);

    const events = await eventsSince(since);
    const mine = events.filter((e) => e.schema === schema || e.details.schemas?.includes(schema));
    expect(mine.map((e) => [e.action, e.outcome])).toEqual([
      ["tenant.create", "ok"],
      ["tenant.suspend", "ok"],
      ["tenant.resume", "ok"],
      ["tenant.migrate", "ok"],
      ["fleet.migrate", "ok"],
      ["tenant.drop", "ok"],
    ]);
    expect(mine.every((e) => e.actor === tokenActor)).toBe(true);
    expect(mine[0]!.details).toEqual({ name: "Audited", host: null, admin: email, revision: expect.any(Number) });
    expect(mine[4]!.details).toMatchObject({ schemas: [schema], run: expect.any(Number) }); // the run records the rest
    // Neither the token nor the password is anywhere in the trail.
    const text = JSON.stringify(events);
    expect(text).not.toContain(api.config.adminToken!);
    expect(text).not.toContain(password);
  });

  test("a write that fails is recorded as failed, with the reason; one refused before reaching it (validation) leaves nothing", async () => {
    const since = await lastId();
    const missing = uniqueSchema("aud");
    expect((await api.req("DELETE", `/cc/tenants/${missing}?confirm=${missing}`, { headers: admin })).status).toBe(404);
    expect((await api.req("POST", "/cc/tenants", { headers: admin, body: { name: 42 } })).status).toBe(422);
    const events = await eventsSince(since);
    expect(events.map((e) => [e.action, e.schema, e.outcome, e.details])).toEqual([["tenant.drop", missing, "failed", { error: `tenant ${missing} not found` }]]);
  });
});

describe("GET /cc/audit", () => {
  test("needs the admin token", async () => {
    expect((await api.req("GET", "/cc/audit")).status).toBe(401);
    expect((await api.req("GET", "/cc/audit", { headers: { authorization: "Bearer not-the-admin-token-at-all" } })).status).toBe(401);
    const off = await testApp({ adminToken: undefined });
    expect((await off.req("GET", "/cc/audit", { headers: admin })).status).toBe(503);
  });

  test("newest first, filtered by schema and action, paged with limit and before (an id or a time)", async () => {
    const schema = uniqueSchema("aud");
    api.track(schema);
    await api.req("POST", "/cc/tenants", { headers: admin, body: { name: "Paged", schema } });
    for (const action of ["suspend", "resume", "suspend"]) await api.req("POST", `/cc/tenants/${schema}/${action}`, { headers: admin });

    const all = await api.req("GET", `/cc/audit?schema=${schema}`, { headers: admin });
    expect(all.status).toBe(200);
    expect(all.body.map((e: Event) => e.action)).toEqual(["tenant.suspend", "tenant.resume", "tenant.suspend", "tenant.create"]);
    expect(all.body[0]).toMatchObject({ actor: tokenActor, schema, outcome: "ok", details: {} });
    expect(new Date(all.body[0].at).getTime()).toBeGreaterThanOrEqual(new Date(all.body[3].at).getTime());

    const suspends = await api.req("GET", `/cc/audit?schema=${schema}&action=tenant.suspend`, { headers: admin });
    expect(suspends.body).toHaveLength(2);

    const page = await api.req("GET", `/cc/audit?schema=${schema}&limit=2`, { headers: admin });
    expect(page.body.map((e: Event) => e.id)).toEqual(all.body.slice(0, 2).map((e: Event) => e.id));
    const next = /<([^>]+)>; rel="next"/.exec(page.headers.get("link")!)![1]!;
    expect(next).toBe(`/cc/audit?schema=${schema}&limit=2&before=${all.body[1].id}`);
    expect((await api.req("GET", next, { headers: admin })).body.map((e: Event) => e.id)).toEqual(all.body.slice(2).map((e: Event) => e.id));

    const byTime = await api.req("GET", `/cc/audit?schema=${schema}&before=${encodeURIComponent(new Date(Date.now() + 60_000).toISOString())}`, { headers: admin });
    expect(byTime.body).toHaveLength(4);
    for (const bad of ["limit=0", "limit=1001", "before=yesterday"]) expect((await api.req("GET", `/cc/audit?${bad}`, { headers: admin })).status).toBe(422);
  });
});

describe("CLI writes", () => {
  async function cli(args: string[]) {
    const proc = Bun.spawn(["bun", join(import.meta.dir, "../../src/index.ts"), ...args], {
      env: { ...process.env, DATABASE_URL: (await database()).url, LOG_LEVEL: "silent" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    return { code, stdout };
  }

  test("each leaves one event as cli:<os user>; dry runs none; `tenant-todo audit` prints them newest first", async () => {
    const since = await lastId();
    const schema = uniqueSchema("aud");
    api.track(schema);
    const steps = [
      ["tenant", "create", "CLI Audited", "--schema", schema],
      ["tenant", "suspend", schema],
      ["tenant", "resume", schema],
      ["migrate", "down", "--tenant", schema],
      ["migrate", "up", "--tenant", schema, "--dry-run"],
      ["migrate", "up", "--tenant", schema],
      ["migrate", "up", "--all"],
      ["tenant", "drop", schema, "--yes"],
      ["tenant", "drop", schema, "--yes"],
    ];
    const codes = [];
    for (const args of steps) codes.push((await cli(args)).code);
    expect(codes).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 1]);

    const mine = (await eventsSince(since)).filter((e) => e.schema === schema || (e.action === "fleet.migrate" && e.actor.startsWith("cli:")));
    expect(mine.map((e) => [e.action, e.outcome])).toEqual([
      ["tenant.create", "ok"],
      ["tenant.suspend", "ok"],
      ["tenant.resume", "ok"],
      ["tenant.revert", "ok"],
      ["tenant.migrate", "ok"],
      ["fleet.migrate", "ok"],
      ["tenant.drop", "ok"],
      ["tenant.drop", "failed"],
    ]);
    expect([...new Set(mine.map((e) => e.actor))]).toEqual([cliActor()]);
    expect(cliActor()).not.toBe("cli:unknown");
    expect(mine[3]!.details).toMatchObject({ steps: 1, files: [expect.stringMatching(/\.sql$/)] });

    const printed = await cli(["audit", "--schema", schema, "--json"]);
    expect(printed.code).toBe(0);
    expect(JSON.parse(printed.stdout).map((e: Event) => e.action)).toEqual(mine.filter((e) => e.schema === schema).map((e) => e.action).reverse());
    const text = await cli(["audit", "--schema", schema, "--action", "tenant.drop", "--limit", "1"]);
    expect(text.stdout.trim().split("\n")).toHaveLength(1);
    expect(text.stdout).toContain(`tenant.drop`);
    expect(text.stdout).toContain("failed");
  });
});
