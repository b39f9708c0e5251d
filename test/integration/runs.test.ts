// Fleet runs through /cc on this file's own tenants (the `schemas` list): locked tenants reported
// blocked, halting at max_failures, canaries, resuming (also after the owner died), cancelling,
// async starts, and reverting exactly what a run applied — each step recorded.
import { join } from "node:path";
import { describe, expect, test } from "bun:test";
import { insertRun } from "../../src/db/runs";
import { sha256 } from "../../src/digest";
import type { Migration } from "../../src/migrator/files";
import { cliActor } from "../../src/services/audit";
import { readApplied } from "../../src/migrator/migrator";
import type { Source } from "../../src/migrator/source";
import { database, holdLock, source, uniqueSchema } from "../support/db";
import { testApp, type TestApp } from "../support/http";
import { migrationFile } from "../support/migrations";

const api = await testApp();
const admin = { authorization: `Bearer ${api.config.adminToken}` };
const head = source.tenant.length;
const withFiles = (...files: Migration[]): Source => ({ ...source, tenant: [...source.tenant, ...files] });
// Needs an access exclusive lock on tasks: waits behind anyone reading it.
const estimate = migrationFile(head + 1, "alter table tasks add column estimate integer;", "alter table tasks drop column estimate;");
const notes = migrationFile(head + 1, "create table notes (id int primary key, body text not null);", "drop table notes;");
const pinned = migrationFile(head + 2, "alter table notes add column pinned boolean not null default false;", "alter table notes drop column pinned;");

/** `n` new tenants at head, sorted as a run walks them (by schema). */
async function tenants(n: number) {
  const schemas: string[] = [];
  for (let i = 0; i < n; i++) {
    const schema = uniqueSchema("run");
    api.track(schema);
    const r = await api.req("POST", "/cc/tenants", { headers: admin, body: { name: `Run ${i}`, schema } });
    expect(r.status).toBe(201);
    schemas.push(schema);
  }
  return schemas.sort();
}

const revision = async (schema: string) => (await readApplied(api.sql, schema))!.length;
const registry = async (schema: string) => (await api.sql`select revision from public.tenants where schema = ${schema}`)[0]!.revision as number;

/** A transaction from outside holding a lock on one tenant's tasks table, as a long report would. */
const lockTasks = (schema: string) => holdLock(`"${schema}".tasks`, "access share");

/** Polls a run until `done` says so (the test's own timeout bounds it). */
async function until(app: TestApp, id: number, done: (run: any) => boolean) {
  for (;;) {
    const r = await app.req("GET", `/cc/runs/${id}`, { headers: admin });
    if (done(r.body)) return r.body;
    await Bun.sleep(25);
  }
}

const row = (report: { tenants: { schema: string }[] }, schema: string) => report.tenants.find((t) => t.schema === schema) as any;

describe("lock-safe", () => {
  test("a tenant locked from outside is retried, reported blocked while the rest migrate, and migrated by a resume once released", async () => {
    const schemas = await tenants(3);
    const locked = schemas[1]!;
    const next = await testApp({ migrate: { lockTimeoutMs: 100, statementTimeoutMs: 0, retries: 2 } }, withFiles(estimate));
    const release = await lockTasks(locked);
    let first;
    try {
      first = await next.req("POST", "/cc/migrate", { headers: admin, body: { schemas } });
    } finally {
      await release();
    }
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ status: "done", head: head + 1, total: 3, migrated: 2, blocked: 1, failed: 0, remaining: 0 });
    expect(row(first.body, locked)).toMatchObject({ outcome: "blocked", attempts: 3, from: head, to: head, applied: [] });
    expect(row(first.body, locked).error).toContain(`${estimate.file} on ${locked} is blocked`);
    expect(await revision(locked)).toBe(head);

    const recorded = await next.req("GET", `/cc/runs/${first.body.run}`, { headers: admin });
    expect(recorded.body).toMatchObject({
      id: first.body.run,
      kind: "up",
      status: "done",
      target: head + 1,
      actor: `admin-token:${sha256(api.config.adminToken!, "hex").slice(0, 8)}`,
      counts: { total: 3, planned: 3, migrated: 2, blocked: 1, failed: 0, remaining: 0 },
    });
    expect(recorded.body.tenants).toHaveLength(3);

    const resumed = await next.req("POST", `/cc/runs/${first.body.run}/resume`, { headers: admin });
    expect(resumed.body).toMatchObject({ run: first.body.run, status: "done", migrated: 1, unchanged: 2, blocked: 0 });
    expect(await revision(locked)).toBe(head + 1);
    const after = await next.req("GET", `/cc/runs/${first.body.run}`, { headers: admin });
    expect(after.body.counts).toMatchObject({ migrated: 3, blocked: 0 });
    expect(after.body.tenants.find((t: any) => t.schema === locked)).toMatchObject({ outcome: "migrated", attempts: 1, from: head, to: head + 1, applied: [estimate.file] });
    expect(after.body.events.map((e: any) => e.event)).toEqual(["start", "done", "resume", "done"]);
  });
});

describe("staged and reversible", () => {
  test("halts past max_failures and says so; resumes; revert puts exactly its tenants back, each recorded", async () => {
    const schemas = await tenants(6);
    const [outsider] = await tenants(1);
    const broken = [schemas[1]!, schemas[2]!];
    for (const s of broken) await api.sql.unsafe(`create table "${s}".notes (conflict int)`);
    const next = await testApp({}, withFiles(notes));

    const halted = await next.req("POST", "/cc/migrate", { headers: admin, body: { schemas, max_failures: 1, concurrency: 1 } });
    expect(halted.body).toMatchObject({ status: "halted", migrated: 1, failed: 2, remaining: 3 });
    expect(halted.body.message).toContain("halted: 2 tenants failed, more than max_failures 1; 3 of 6 tenants not started");
    expect(schemas.slice(3).map((s) => row(halted.body, s).outcome)).toEqual(["pending", "pending", "pending"]);
    for (const s of schemas.slice(1)) expect(await revision(s)).toBe(head);
    const listed = await next.req("GET", "/cc/runs?limit=5", { headers: admin });
    expect(listed.body[0]).toMatchObject({ id: halted.body.run, status: "halted", counts: { migrated: 1, failed: 2, remaining: 3 } });

    for (const s of broken) await api.sql.unsafe(`drop table "${s}".notes`);
    const resumed = await next.req("POST", `/cc/runs/${halted.body.run}/resume`, { headers: admin, body: { concurrency: 2 } });
    expect(resumed.body).toMatchObject({ status: "done", migrated: 5, failed: 0 });
    for (const s of schemas) expect(await revision(s)).toBe(head + 1);
    // Someone else's change on a tenant outside the run: the revert must leave it alone.
    expect((await next.req("POST", `/cc/tenants/${outsider}/migrate`, { headers: admin })).body.to).toBe(head + 1);

    const reverted = await next.req("POST", `/cc/runs/${halted.body.run}/revert`, { headers: admin });
    expect(reverted.status).toBe(200);
    expect(reverted.body).toMatchObject({ kind: "revert", status: "done", total: 6, reverted: 6, failed: 0, refused: 0 });
    expect(reverted.body.tenants.every((t: any) => t.applied.join() === notes.file && t.to === head)).toBe(true);
    for (const s of schemas) {
      expect(await revision(s)).toBe(head);
      expect(await registry(s)).toBe(head);
      expect((await api.sql`select to_regclass(${`"${s}".notes`}) as t`)[0]!.t).toBeNull();
    }
    expect(await revision(outsider!)).toBe(head + 1);

    const record = await next.req("GET", `/cc/runs/${reverted.body.run}`, { headers: admin });
    expect(record.body).toMatchObject({ kind: "revert", reverts: halted.body.run, status: "done", counts: { reverted: 6 } });
    expect(record.body.tenants.map((t: any) => t.schema).sort()).toEqual(schemas);
    const again = await next.req("POST", `/cc/runs/${halted.body.run}/revert`, { headers: admin });
    expect(again.body).toMatchObject({ reverted: 0, unchanged: 6 });
    const ofRevert = await next.req("POST", `/cc/runs/${reverted.body.run}/revert`, { headers: admin });
    expect(ofRevert.status).toBe(409);
  });

  test("a failing canary halts the run before any wave; a revert is refused where a later file sits on top", async () => {
    const schemas = await tenants(4);
    await api.sql.unsafe(`create table "${schemas[3]}".notes (conflict int)`);
    const one = await testApp({}, withFiles(notes));
    const canary = await one.req("POST", "/cc/migrate", { headers: admin, body: { schemas, canary: [schemas[3]], wave: 2 } });
    expect(canary.body).toMatchObject({ status: "halted", failed: 1, migrated: 0, remaining: 3 });
    expect(canary.body.message).toContain("more than max_failures 0");
    await api.sql.unsafe(`drop table "${schemas[3]}".notes`);
    expect((await one.req("POST", `/cc/runs/${canary.body.run}/resume`, { headers: admin })).body).toMatchObject({ status: "done", migrated: 4 });

    const two = await testApp({}, withFiles(notes, pinned));
    const later = await two.req("POST", "/cc/migrate", { headers: admin, body: { schemas: [schemas[0]] } });
    expect(later.body).toMatchObject({ migrated: 1, head: head + 2 });
    const refused = await two.req("POST", `/cc/runs/${canary.body.run}/revert`, { headers: admin });
    expect(refused.body).toMatchObject({ status: "done", reverted: 3, refused: 1 });
    expect(row(refused.body, schemas[0]!).error).toContain(`${pinned.file} sits on top of what run ${canary.body.run} applied`);
    expect(await revision(schemas[0]!)).toBe(head + 2);
    // Newest first: revert the later run, then the first one's revert can finish (a resume of it).
    expect((await two.req("POST", `/cc/runs/${later.body.run}/revert`, { headers: admin })).body).toMatchObject({ reverted: 1 });
    const finished = await two.req("POST", `/cc/runs/${refused.body.run}/resume`, { headers: admin });
    expect(finished.body).toMatchObject({ status: "done", reverted: 1 });
    for (const s of schemas) expect(await revision(s)).toBe(head);
  });

  test("an unsafe file is refused before a run is recorded", async () => {
    const schemas = await tenants(1);
    const runsBefore = (await api.sql`select count(*)::int as n from public.migration_runs`)[0]!.n;
    const unsafe = migrationFile(head + 1, "create index tasks_title_idx on tasks (title);");
    const r = await (await testApp({}, withFiles(unsafe))).req("POST", "/cc/migrate", { headers: admin, body: { schemas } });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: "unsafe_migration" });
    expect((await api.sql`select count(*)::int as n from public.migration_runs`)[0]!.n).toBe(runsBefore);
  });
});

describe("stoppable", () => {
  test("async answers 202 with Location; cancel stops after the tenant in flight; resume finishes", async () => {
    const schemas = await tenants(4);
    const next = await testApp({ migrate: { lockTimeoutMs: 60_000, statementTimeoutMs: 0, retries: 0 } }, withFiles(estimate));
    const release = await lockTasks(schemas[1]!);
    let stopped;
    try {
      const started = await next.req("POST", "/cc/migrate", { headers: admin, body: { schemas, concurrency: 1, async: true } });
      expect(started.status).toBe(202);
      expect(started.headers.get("location")).toBe(`/cc/runs/${started.body.id}`);
      expect(started.body).toMatchObject({ status: "running", kind: "up", counts: { planned: 4 } });
      // Progress from the record while it runs: the first tenant is done, the second waits for its lock.
      const progress = await until(next, started.body.id, (run) => run.tenants.length === 1);
      expect(progress).toMatchObject({ status: "running", counts: { migrated: 1, remaining: 3 } });
      const cancel = await next.req("POST", `/cc/runs/${started.body.id}/cancel`, { headers: admin });
      expect(cancel.status).toBe(202);
      expect(cancel.body.cancel_requested_at).toBeString();
      await release();
      stopped = await until(next, started.body.id, (run) => run.status !== "running");
    } finally {
      await release().catch(() => {});
    }
    expect(stopped).toMatchObject({ status: "cancelled", counts: { migrated: 2, remaining: 2 } });
    expect(stopped.message).toContain("2 of 4 tenants not started");
    expect([await revision(schemas[2]!), await revision(schemas[3]!)]).toEqual([head, head]);
    expect((await next.req("POST", `/cc/runs/${stopped.id}/cancel`, { headers: admin })).status).toBe(409);
    const resumed = await next.req("POST", `/cc/runs/${stopped.id}/resume`, { headers: admin, body: { async: true } });
    expect(resumed.status).toBe(202);
    expect((await until(next, stopped.id, (run) => run.status !== "running")).counts).toMatchObject({ migrated: 4, remaining: 0 });
  });

  test("a cancel from another process (the CLI) reaches the run through its record, after the tenant in flight", async () => {
    const schemas = await tenants(3);
    const next = await testApp({ migrate: { lockTimeoutMs: 60_000, statementTimeoutMs: 0, retries: 0 } }, withFiles(estimate));
    const release = await lockTasks(schemas[0]!);
    let stopped;
    try {
      const started = await next.req("POST", "/cc/migrate", { headers: admin, body: { schemas, concurrency: 1, async: true } });
      const proc = Bun.spawn(["bun", join(import.meta.dir, "../../src/index.ts"), "migrate", "cancel", String(started.body.id)], {
        env: { ...process.env, DATABASE_URL: (await database()).url, LOG_LEVEL: "silent" },
        stdout: "pipe",
      });
      const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
      expect([code, out.trim()]).toEqual([0, `run ${started.body.id}: cancel requested; it stops after the tenants in flight`]);
      await release();
      stopped = await until(next, started.body.id, (run) => run.status !== "running");
    } finally {
      await release().catch(() => {});
    }
    expect(stopped).toMatchObject({ status: "cancelled", counts: { migrated: 1, remaining: 2 } });
    expect(stopped.events.map((e: any) => [e.event, e.actor])).toContainEqual(["cancel", cliActor()]);
  });

  test("a run whose owner died reads as interrupted and can be resumed; a live one cannot", async () => {
    const schemas = await tenants(2);
    const next = await testApp({}, withFiles(notes));
    const orphan = await insertRun(api.sql, {
      kind: "up",
      actor: "cli:someone",
      target: head + 1,
      reverts: null,
      dry_run: false,
      options: { schemas, concurrency: 2, max_failures: null },
      counts: { total: 2, planned: 2 },
      owner: "gone-host:1:dead",
    });
    expect((await next.req("POST", `/cc/runs/${orphan.id}/resume`, { headers: admin })).status).toBe(409); // its owner beat just now
    await api.sql`update public.migration_runs set heartbeat_at = now() - interval '1 hour' where id = ${orphan.id}`;
    expect((await next.req("GET", `/cc/runs/${orphan.id}`, { headers: admin })).body.status).toBe("interrupted");
    const resumed = await next.req("POST", `/cc/runs/${orphan.id}/resume`, { headers: admin });
    expect(resumed.body).toMatchObject({ run: orphan.id, status: "done", migrated: 2 });
    for (const s of schemas) expect(await revision(s)).toBe(head + 1);
  });

  test("unknown runs are 404, and /cc/runs wants the admin token", async () => {
    expect((await api.req("GET", "/cc/runs/987654321", { headers: admin })).status).toBe(404);
    expect((await api.req("POST", "/cc/runs/987654321/resume", { headers: admin })).status).toBe(404);
    expect((await api.req("GET", "/cc/runs/x", { headers: admin })).status).toBe(404);
    expect((await api.req("GET", "/cc/runs")).status).toBe(401);
    expect((await api.req("POST", "/cc/runs/1/cancel")).status).toBe(401);
  });
});
