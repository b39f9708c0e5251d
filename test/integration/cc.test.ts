// The control API: ADMIN_TOKEN, tenant lifecycle, and fleet migrations with a broken tenant,
// two migrators at once and dry runs — on this file's own tenants only (the `schemas` canary list).
import { describe, expect, test } from "bun:test";
import { distributed } from "../../src/db/citus";
import type { Migration } from "../../src/migrator/files";
import { readApplied } from "../../src/migrator/migrator";
import type { Source } from "../../src/migrator/source";
import { source, uniqueSchema } from "../support/db";
import { testApp } from "../support/http";
import { migrationFile } from "../support/migrations";

const api = await testApp();
const admin = { authorization: `Bearer ${api.config.adminToken}` };
const head = source.tenant.length;

async function newTenant(name = "Fleet Co", extra: Record<string, unknown> = {}) {
  const schema = uniqueSchema("cc");
  api.track(schema);
  const r = await api.req("POST", "/cc/tenants", { headers: admin, body: { name, schema, ...extra } });
  expect(r.status).toBe(201);
  return schema;
}

const withFiles = (...files: Migration[]): Source => ({ ...source, tenant: [...source.tenant, ...files] });
const notes = migrationFile(head + 1, "create table notes (id int primary key, body text not null);", "drop table notes;");
const later = migrationFile(head + 2, "alter table notes add column pinned boolean not null default false; select pg_sleep(0.01);", "alter table notes drop column pinned;");

describe("access", () => {
  test("no token or a wrong one is a 401; ADMIN_TOKEN unset is a 503", async () => {
    expect((await api.req("GET", "/cc/tenants")).status).toBe(401);
    const wrong = await api.req("GET", "/cc/tenants", { headers: { authorization: "Bearer not-the-admin-token-at-all" } });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get("www-authenticate")).toStartWith("Bearer");
    const tenantToken = await api.signUp();
    expect((await api.req("GET", "/cc/tenants", { headers: tenantToken.headers })).status).toBe(401);
    // Refused before the body is even parsed: no validation details for strangers.
    const probe = await api.req("POST", "/cc/tenants", { body: { name: 42, extra: true } });
    expect(probe.status).toBe(401);
    expect(probe.body.error.details).toBeUndefined();
    const off = await testApp({ adminToken: undefined });
    const r = await off.req("GET", "/cc/tenants", { headers: admin });
    expect(r.status).toBe(503);
    expect(r.body.error.code).toBe("cc_disabled");
  });
});

describe("tenants", () => {
  test("create (with a first admin who can sign in), list with revisions, get one with its migrations", async () => {
    const email = `ops.${crypto.randomUUID().slice(0, 8)}@fleet.test`;
    const schema = await newTenant("Acme Ops", { host: `h${crypto.randomUUID().slice(0, 8)}.fleet.test`, admin: { email, password: "operator password", first_name: "O", last_name: "P" } });
    const login = await api.req("POST", "/auth/login", { body: { email, password: "operator password" } });
    expect(login.body).toMatchObject({ tenant: { schema }, user: { role: "admin" } });

    const list = await api.req("GET", "/cc/tenants", { headers: admin });
    const row = list.body.find((t: { schema: string }) => t.schema === schema);
    expect(row).toMatchObject({ name: "Acme Ops", status: "active", revision: head, head, pending: [], pending_count: 0, drift: null });
    expect(row.checksum).toBeUndefined();

    const one = await api.req("GET", `/cc/tenants/${schema}`, { headers: admin });
    expect(one.body.applied.map((a: { version: number }) => a.version)).toEqual(source.tenant.map((m) => m.version));
    expect((await api.req("GET", `/cc/tenants/${uniqueSchema()}`, { headers: admin })).status).toBe(404);
  });

  test("hostile schema names in create, migrate, get and drop are refused (400/422), nothing touched", async () => {
    const before = (await api.sql`select count(*)::int as n from pg_namespace`)[0]!.n;
    const tenants = (await api.sql`select count(*)::int as n from public.tenants`)[0]!.n;
    for (const schema of ["public", "pg_toast", "information_schema", "a;drop schema public cascade", 'a"b', "UPPER", "x".repeat(64)]) {
      const created = await api.req("POST", "/cc/tenants", { headers: admin, body: { name: "x", schema } });
      expect({ schema, status: created.status }).toEqual({ schema, status: 422 });
      const path = `/cc/tenants/${encodeURIComponent(schema)}`;
      for (const [method, suffix] of [["POST", "/migrate"], ["GET", ""], ["DELETE", `?confirm=${encodeURIComponent(schema)}`]] as const) {
        const r = await api.req(method, `${path}${suffix}`, { headers: admin });
        expect([400, 422]).toContain(r.status);
      }
    }
    expect((await api.sql`select count(*)::int as n from pg_namespace`)[0]!.n).toBe(before);
    expect((await api.sql`select count(*)::int as n from public.tenants`)[0]!.n).toBe(tenants);
  });

  test("drop needs ?confirm=<schema> (400), then removes schema and rows; its users are gone", async () => {
    const schema = await newTenant();
    expect((await api.req("DELETE", `/cc/tenants/${schema}`, { headers: admin })).status).toBe(400);
    expect((await api.req("DELETE", `/cc/tenants/${schema}?confirm=other`, { headers: admin })).status).toBe(400);
    expect((await api.sql`select to_regnamespace(${schema}) is not null as ok`)[0]!.ok).toBe(true);
    expect((await api.req("DELETE", `/cc/tenants/${schema}?confirm=${schema}`, { headers: admin })).status).toBe(204);
    expect((await api.sql`select to_regnamespace(${schema}) is not null as ok`)[0]!.ok).toBe(false);
    expect((await api.req("DELETE", `/cc/tenants/${schema}?confirm=${schema}`, { headers: admin })).status).toBe(404);
  });

  test("a taken schema is a 409", async () => {
    const schema = await newTenant();
    expect((await api.req("POST", "/cc/tenants", { headers: admin, body: { name: "again", schema } })).status).toBe(409);
  });
});

describe("fleet migrations", () => {
  test("over 52 tenants with one broken: the others migrate, the broken one is reported and keeps its revision; re-runs pick up only what is pending", async () => {
    const schemas: string[] = [];
    for (let i = 0; i < 52; i++) schemas.push(await newTenant(`Fleet ${i}`));
    const broken = schemas[17]!;
    await api.sql`create table ${api.sql(broken)}.notes (conflict int)`;
    const next = await testApp({}, withFiles(notes));

    const first = await next.req("POST", "/cc/migrate", { headers: admin, body: { schemas } });
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ head: head + 1, total: 52, migrated: 51, failed: 1, unchanged: 0 });
    const report = first.body.tenants.find((t: { schema: string }) => t.schema === broken);
    expect(report).toMatchObject({ schema: broken, from: head, to: head, applied: [] });
    expect(report.error).toContain(`${notes.file} failed on ${broken}`);
    expect(report.error).toContain("already exists");
    expect(first.body.tenants.filter((t: { error?: string }) => !t.error).every((t: { applied: string[] }) => t.applied.join() === notes.file)).toBe(true);
    expect((await readApplied(api.sql, broken))!.length).toBe(head);

    const again = await next.req("POST", "/cc/migrate", { headers: admin, body: { schemas } });
    expect(again.body).toMatchObject({ migrated: 0, unchanged: 51, failed: 1 });

    await api.sql`drop table ${api.sql(broken)}.notes`;
    const fixed = await next.req("POST", "/cc/migrate", { headers: admin, body: { schemas } });
    expect(fixed.body).toMatchObject({ migrated: 1, unchanged: 51, failed: 0 });
    const noop = await next.req("POST", "/cc/migrate", { headers: admin, body: { schemas } });
    expect(noop.body).toMatchObject({ migrated: 0, unchanged: 52, failed: 0 });

    const listed = await next.req("GET", "/cc/tenants", { headers: admin });
    const mine = listed.body.filter((t: { schema: string }) => schemas.includes(t.schema));
    expect(mine.every((t: { revision: number; pending: string[] }) => t.revision === head + 1 && t.pending.length === 0)).toBe(true);
    // The old code base (head) sees these tenants as ahead of it: drift, not silence.
    const old = (await api.req("GET", "/cc/tenants", { headers: admin })).body.find((t: { schema: string }) => t.schema === broken);
    expect(old.drift).toContain("ahead");
  });

  test("two migrate-alls at once apply each file once per tenant, and both finish", async () => {
    const schemas: string[] = [];
    for (let i = 0; i < 12; i++) schemas.push(await newTenant(`Twin ${i}`));
    const [one, two] = [await testApp({}, withFiles(notes, later)), await testApp({}, withFiles(notes, later))];
    const [a, b] = await Promise.all([
      one.req("POST", "/cc/migrate", { headers: admin, body: { schemas, concurrency: 4 } }),
      two.req("POST", "/cc/migrate", { headers: admin, body: { schemas, concurrency: 4 } }),
    ]);
    expect([a.status, b.status, a.body.failed, b.body.failed]).toEqual([200, 200, 0, 0]);
    for (const schema of schemas) {
      const applied = [a, b].flatMap((r) => r.body.tenants.find((t: { schema: string }) => t.schema === schema).applied);
      expect(applied.sort()).toEqual([notes.file, later.file]);
      expect((await readApplied(api.sql, schema))!.map((m) => m.version)).toEqual([...source.tenant.map((m) => m.version), head + 1, head + 2]);
    }
  });

  test("a dry run reports per tenant what would run and changes nothing", async () => {
    const schemas = [await newTenant(), await newTenant()];
    const catalog = () =>
      api.sql`select n.nspname, c.relname, c.relkind from pg_class c join pg_namespace n on n.oid = c.relnamespace where n.nspname = any(${schemas}) order by 1, 2`;
    const state = async () => JSON.stringify([await catalog(), ...(await Promise.all(schemas.map((s) => readApplied(api.sql, s)))), await api.sql`select schema, revision, checksum from public.tenants where schema = any(${schemas}) order by 1`]);
    const before = await state();
    const next = await testApp({}, withFiles(notes, later));
    const all = await next.req("POST", "/cc/migrate", { headers: admin, body: { schemas, dry_run: true } });
    expect(all.body).toMatchObject({ dry_run: true, failed: 0 });
    expect(all.body.tenants.map((t: { applied: string[] }) => t.applied)).toEqual([[notes.file, later.file], [notes.file, later.file]]);
    const beyond = await next.req("POST", `/cc/tenants/${schemas[0]}/migrate`, { headers: admin, body: { to: head + 5 } });
    expect(beyond.status).toBe(422);
    const one = await next.req("POST", `/cc/tenants/${schemas[0]}/migrate`, { headers: admin, body: { dry_run: true, to: head + 1 } });
    expect(one.body).toMatchObject({ from: head, to: head + 1, applied: [notes.file] });
    expect(await state()).toBe(before);
    const real = await next.req("POST", `/cc/tenants/${schemas[0]}/migrate`, { headers: admin, body: { to: head + 1 } });
    expect(real.body).toMatchObject({ from: head, to: head + 1, applied: [notes.file] });
  });
});

// On Citus (bun run test:citus) test/citus covers these verbs.
describe.skipIf(await distributed(api.sql))("placement without Citus", () => {
  test("tenants carry no node; move and rebalance answer 409 not_distributed", async () => {
    const schema = await newTenant("Unplaced");
    expect((await api.req("GET", `/cc/tenants/${schema}`, { headers: admin })).body.node).toBeUndefined();
    for (const [path, body] of [[`/cc/tenants/${schema}/move`, { node: "127.0.0.1:5432" }], ["/cc/rebalance", {}]] as const) {
      const r = await api.req("POST", path, { headers: admin, body });
      expect({ path, status: r.status, code: r.body.error.code }).toEqual({ path, status: 409, code: "not_distributed" });
    }
    expect((await api.req("GET", "/cc/rebalance", { headers: admin })).status).toBe(409);
  });
});
