// The command line as operators run it: separate processes, real database, exit codes and output.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Sql } from "../../src/db/client";
import { tenantBySchema } from "../../src/db/tenants";
import { revertTenant } from "../../src/migrator/fleet";
import { readApplied } from "../../src/migrator/migrator";
import { SQL_DIR } from "../../src/migrator/source";
import { createTenant, dropTenant } from "../../src/services/tenants";
import { database, slowMachine, source, uniqueSchema } from "../support/db";

slowMachine();

let sql: Sql;
let url: string;
const made: string[] = [];
const copies: string[] = [];

beforeAll(async () => {
  ({ sql, url } = await database());
});
afterAll(async () => {
  for (const s of made) await dropTenant(sql, s).catch(() => {});
  for (const dir of copies) rmSync(dir, { recursive: true, force: true });
});

async function cli(args: string[], env: Record<string, string> = {}) {
  const proc = Bun.spawn(["bun", join(import.meta.dir, "../../src/index.ts"), ...args], {
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: "silent", ...env },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr };
}

async function tenant() {
  const schema = uniqueSchema("cli");
  made.push(schema);
  await createTenant(sql, source.tenant, { name: `CLI ${schema}`, schema });
  return schema;
}

function sqlCopy() {
  const dir = mkdtempSync(join(tmpdir(), "tenant-todo-sql-"));
  copies.push(dir);
  cpSync(SQL_DIR, dir, { recursive: true });
  return dir;
}

test("the package scripts run the same CLI (bun run tenant -- …)", async () => {
  const proc = Bun.spawn(["bun", "run", "tenant", "--", "list", "--json"], {
    cwd: join(import.meta.dir, "../.."),
    env: { ...process.env, DATABASE_URL: url, LOG_LEVEL: "silent" },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  expect(code).toBe(0);
  expect(Array.isArray(JSON.parse(stdout))).toBe(true);
});

describe("tenant verbs", () => {
  test("create, list and drop (drop wants --yes)", async () => {
    const schema = uniqueSchema("cli");
    made.push(schema);
    const created = await cli(["tenant", "create", "Acme CLI", "--schema", schema, "--json"]);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ schema, name: "Acme CLI", revision: source.tenant.length });
    const listed = await cli(["tenant", "list", "--json"]);
    expect(JSON.parse(listed.stdout).map((t: { schema: string }) => t.schema)).toContain(schema);
    const refused = await cli(["tenant", "drop", schema]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("--yes");
    expect(await tenantBySchema(sql, schema)).toBeDefined();
    expect((await cli(["tenant", "drop", schema, "--yes"])).code).toBe(0);
    expect(await tenantBySchema(sql, schema)).toBeUndefined();
  });

  test("hostile names are refused with a message and exit 1", async () => {
    const r = await cli(["tenant", "create", "x", "--schema", "a;drop schema public"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("invalid schema name");
    expect((await cli(["migrate", "up", "--tenant", "pg_catalog"])).stderr).toContain("invalid schema name");
  });
});

describe("migrate verbs", () => {
  test("status --all --json lists every tenant with its revision, the head and what is pending", async () => {
    const [atHead, behind] = [await tenant(), await tenant()];
    await revertTenant(sql, source.tenant, behind, { steps: source.tenant.length });
    const r = await cli(["migrate", "status", "--all", "--json"]);
    expect(r.code).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.head).toBe(source.tenant.length);
    const find = (schema: string) => report.tenants.find((t: { schema: string }) => t.schema === schema);
    expect(find(atHead)).toMatchObject({ revision: source.tenant.length, head: source.tenant.length, pending: [], drift: null });
    expect(find(behind)).toMatchObject({ revision: 0, pending: source.tenant.map((m) => m.file) });
  });

  test("8 concurrent `migrate up --all` apply each tenant file exactly once per schema and all exit 0", async () => {
    const schemas = [await tenant(), await tenant(), await tenant()];
    for (const s of schemas) await revertTenant(sql, source.tenant, s, { steps: source.tenant.length });
    const runs = await Promise.all(Array.from({ length: 8 }, () => cli(["migrate", "up", "--all", "--json"])));
    expect(runs.map((r) => r.code)).toEqual(Array(8).fill(0));
    for (const s of schemas) {
      const appliedBy = runs.flatMap((r) => JSON.parse(r.stdout).tenants.filter((t: { schema: string }) => t.schema === s).flatMap((t: { applied: string[] }) => t.applied));
      expect(appliedBy).toEqual(source.tenant.map((m) => m.file));
      expect((await readApplied(sql, s))!.map((a) => a.version)).toEqual(source.tenant.map((m) => m.version));
      expect((await tenantBySchema(sql, s))!.revision).toBe(source.tenant.length);
    }
  });

  test("--to below the current revision is refused (that is what down is for)", async () => {
    const schema = await tenant();
    const r = await cli(["migrate", "up", "--tenant", schema, "--to", "0"]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("use down");
    expect((await tenantBySchema(sql, schema))!.revision).toBe(source.tenant.length);
  });

  test("a dry run shows the files and their SQL and changes nothing", async () => {
    const schema = await tenant();
    await revertTenant(sql, source.tenant, schema, { steps: source.tenant.length });
    const r = await cli(["migrate", "up", "--tenant", schema, "--dry-run"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`would apply ${source.tenant[0]!.file}`);
    expect(r.stdout).toContain("create table users");
    expect(await readApplied(sql, schema)).toEqual([]);
    expect((await tenantBySchema(sql, schema))!.revision).toBe(0);
  });

  test("changing an applied file makes up fail with a message naming that file", async () => {
    const schema = await tenant();
    const dir = sqlCopy();
    const file = join(dir, "tenant", source.tenant[0]!.file);
    writeFileSync(file, readFileSync(file, "utf8").replace("create table users (", "create table users (\n  nickname text,"));
    const r = await cli(["migrate", "up", "--tenant", schema], { SQL_DIR: dir });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${source.tenant[0]!.file} changed after it was applied to ${schema}`);
    const status = await cli(["migrate", "status", "--tenant", schema], { SQL_DIR: dir });
    expect(status.code).toBe(1);
    expect(status.stdout).toContain("changed after it was applied");
  });

  test("new writes the next numbered file from the template", async () => {
    const dir = sqlCopy();
    const r = await cli(["migrate", "new", "Add notes to tasks", "--scope", "tenant"], { SQL_DIR: dir });
    expect(r.code).toBe(0);
    const next = `${String(source.tenant.length + 1).padStart(4, "0")}_add_notes_to_tasks.sql`;
    expect(r.stdout).toContain(next);
    expect(readFileSync(join(dir, "tenant", next), "utf8")).toContain("-- migrate:up");
  });

  test("usage errors exit 2 and print the usage", async () => {
    const r = await cli(["migrate", "up"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--tenant <schema>, --all or --public");
    expect((await cli(["migrate", "up", "--all", "--to", "1"])).code).toBe(2);
    expect((await cli(["migrate", "up", "--bogus"])).code).toBe(2);
    expect((await cli(["--help"])).stdout).toContain("tenant-todo migrate up");
  });
});

