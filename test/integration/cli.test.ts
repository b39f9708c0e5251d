// The command line as operators run it: separate processes, real database, exit codes and output.
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Sql } from "../../src/db/client";
import { tenantBySchema } from "../../src/db/tenants";
import { revertTenant } from "../../src/migrator/fleet";
import { cliActor } from "../../src/services/audit";
import { readApplied } from "../../src/migrator/migrator";
import { SQL_DIR } from "../../src/migrator/source";
import { createTenant, dropTenant } from "../../src/services/tenants";
import { database, slowMachine, source, testConfig, uniqueSchema } from "../support/db";

slowMachine();

let sql: Sql;
let url: string;
const made: string[] = [];
/** Every tenant file reverted: a schema at revision 0. */
const toZero = { steps: source.tenant.length };
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
    await revertTenant(sql, source.tenant, behind, toZero);
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
    for (const s of schemas) await revertTenant(sql, source.tenant, s, toZero);
    const runs = await Promise.all(Array.from({ length: 8 }, () => cli(["migrate", "up", "--all", "--json"])));
    expect(runs.map((r) => r.code)).toEqual(Array(8).fill(0));
    for (const s of schemas) {
      const appliedBy = runs.flatMap((r) => JSON.parse(r.stdout).tenants.filter((t: { schema: string }) => t.schema === s).flatMap((t: { applied: string[] }) => t.applied));
      expect(appliedBy.sort()).toEqual(source.tenant.map((m) => m.file)); // each file once, by whichever process got there
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
    await revertTenant(sql, source.tenant, schema, toZero);
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

  // No-transaction files need a session: through a transaction pooler they are refused (migrator.test.ts).
  test.skipIf(!testConfig.dbPrepare)("a no-transaction file killed half-way resumes after its last finished statement; status shows it", async () => {
    const schema = await tenant();
    const dir = sqlCopy();
    const next = `${String(source.tenant.length + 1).padStart(4, "0")}_resume_me.sql`;
    // Statement 2 waits until a 'release' row exists (or 30 s): the run is killed there.
    writeFileSync(
      join(dir, "tenant", next),
      "-- migrate:no-transaction\n-- migrate:up\ninsert into tasks (title) values ('ran once');\n" +
        "select pg_sleep(case when exists (select 1 from tasks where title = 'release') then 0 else 30 end);\n" +
        "create index concurrently tasks_title_idx on tasks (title);\n",
    );
    const proc = Bun.spawn(["bun", join(import.meta.dir, "../../src/index.ts"), "migrate", "up", "--tenant", schema], {
      env: { ...process.env, DATABASE_URL: url, SQL_DIR: dir, LOG_LEVEL: "silent" },
      stdout: "ignore",
      stderr: "ignore",
    });
    const firstDone = () =>
      sql.unsafe(`select done from "${schema}".schema_migrations_progress`).then((r) => r[0]?.done === 1, () => false);
    for (let i = 0; i < 300 && !(await firstDone()); i++) await Bun.sleep(50);
    proc.kill("SIGKILL");
    await proc.exited;
    expect((await cli(["migrate", "status", "--tenant", schema], { SQL_DIR: dir })).stdout).toContain(`${next}: interrupted after 1 of 3 statements`);

    await sql.unsafe(`insert into "${schema}".tasks (title) values ('release')`);
    const again = await cli(["migrate", "up", "--tenant", schema], { SQL_DIR: dir });
    expect(again.stderr).toBe("");
    expect(again.code).toBe(0);
    const [row] = await sql.unsafe(`select count(*)::int as n from "${schema}".tasks where title = 'ran once'`);
    expect(row.n).toBe(1); // statement 1 did not run again
    expect(await sql`select 1 from pg_indexes where schemaname = ${schema} and indexname = 'tasks_title_idx'`).toHaveLength(1);
    const after = await cli(["migrate", "status", "--tenant", schema], { SQL_DIR: dir });
    expect(after.stdout).not.toContain("interrupted");
    expect(after.stdout).toContain(`✓ ${next}`);
  });

  test.skipIf(!testConfig.dbPrepare)("a half-made concurrent index (INVALID) is dropped and built again on the next run", async () => {
    const schema = await tenant();
    const dir = sqlCopy();
    const next = `${String(source.tenant.length + 1).padStart(4, "0")}_unique_titles.sql`;
    writeFileSync(join(dir, "tenant", next), "-- migrate:no-transaction\n-- migrate:up\ncreate unique index concurrently tasks_title_key on tasks (title);\n");
    await sql.unsafe(`insert into "${schema}".tasks (title) values ('same'), ('same')`);
    const failed = await cli(["migrate", "up", "--tenant", schema], { SQL_DIR: dir });
    expect(failed.code).toBe(1);
    const valid = () => sql`select i.indisvalid as valid from pg_index i join pg_class c on c.oid = i.indexrelid join pg_namespace n on n.oid = c.relnamespace where n.nspname = ${schema} and c.relname = 'tasks_title_key'`;
    expect((await valid())[0]!.valid).toBe(false); // what PostgreSQL leaves behind
    await sql.unsafe(`delete from "${schema}".tasks where title = 'same'`);
    const fixed = await cli(["migrate", "up", "--tenant", schema], { SQL_DIR: dir });
    expect(fixed.stderr).toBe("");
    expect(fixed.code).toBe(0);
    expect((await valid())[0]!.valid).toBe(true);
    expect((await readApplied(sql, schema))!.map((a) => a.name)).toContain("unique_titles");
  });

  test("new writes the next numbered file from the template", async () => {
    const dir = sqlCopy();
    const r = await cli(["migrate", "new", "Add notes to tasks", "--scope", "tenant"], { SQL_DIR: dir });
    expect(r.code).toBe(0);
    const next = `${String(source.tenant.length + 1).padStart(4, "0")}_add_notes_to_tasks.sql`;
    expect(r.stdout).toContain(next);
    expect(readFileSync(join(dir, "tenant", next), "utf8")).toContain("-- migrate:up");
  });

  test("up --all is a recorded run: runs and run show it with the CLI's actor; down --run reverts exactly it", async () => {
    const schemas = [await tenant(), await tenant()];
    const dir = sqlCopy();
    const next = `${String(source.tenant.length + 1).padStart(4, "0")}_cli_note.sql`;
    writeFileSync(join(dir, "tenant", next), "-- migrate:up\ncreate table cli_note (id int);\n-- migrate:down\ndrop table cli_note;\n");
    const up = await cli(["migrate", "up", "--all", "--schemas", schemas.join(","), "--canary", "1", "--json"], { SQL_DIR: dir });
    expect(up.code).toBe(0);
    const report = JSON.parse(up.stdout);
    expect(report).toMatchObject({ status: "done", kind: "up", migrated: 2, total: 2 });

    const runs = await cli(["migrate", "runs", "--json"], { SQL_DIR: dir });
    const listed = JSON.parse(runs.stdout).find((r: { id: number }) => r.id === report.run);
    expect(listed).toMatchObject({ status: "done", actor: cliActor(), options: { canary: 1, max_failures: 0 }, counts: { migrated: 2 } });
    const one = await cli(["migrate", "run", String(report.run)], { SQL_DIR: dir });
    expect(one.code).toBe(0);
    for (const s of schemas) expect(one.stdout).toContain(s);
    expect(one.stdout).toContain(next);

    const reverted = await cli(["migrate", "down", "--run", String(report.run)], { SQL_DIR: dir });
    expect(reverted.code).toBe(0);
    expect(reverted.stdout).toMatch(/run \d+ \(revert\) done: 2 reverted/);
    for (const s of schemas) expect((await tenantBySchema(sql, s))!.revision).toBe(source.tenant.length);
    expect((await cli(["migrate", "run", "987654321"])).code).toBe(1);
  });

  test("lint: the repository's files pass, a new file passes, a plain create index on a tenant table fails with file:line and the rule", async () => {
    const clean = await cli(["migrate", "lint"]);
    expect(clean.code).toBe(0);
    expect(clean.stdout).toMatch(/squawk 2\.66\.0: 0 errors, \d+ warnings? in \d+ files/);

    const dir = sqlCopy();
    expect((await cli(["migrate", "new", "Add estimate", "--scope", "tenant"], { SQL_DIR: dir })).code).toBe(0);
    const fresh = join(dir, "tenant", `${String(source.tenant.length + 1).padStart(4, "0")}_add_estimate.sql`);
    expect((await cli(["migrate", "lint", fresh])).code).toBe(0);

    writeFileSync(fresh, readFileSync(fresh, "utf8").replace("-- migrate:up\n", "-- migrate:up\nalter table tasks add column estimate integer;\ncreate index tasks_estimate_idx on tasks (estimate);"));
    const line = readFileSync(fresh, "utf8").split("\n").indexOf("create index tasks_estimate_idx on tasks (estimate);") + 1;
    const flagged = await cli(["migrate", "lint", fresh, "--json"]);
    expect(flagged.code).toBe(1);
    expect(JSON.parse(flagged.stdout).findings).toEqual([
      expect.objectContaining({ line, column: 1, level: "error", rule: "require-concurrent-index-creation" }),
    ]);
    const text = await cli(["migrate", "lint", fresh]);
    expect(text.stdout).toContain(`${fresh}:${line}:1: error require-concurrent-index-creation: During normal index creation, table updates are blocked`);
    // migrate up refuses it on a tenant with data, without squawk; an opt-out with a reason satisfies both.
    const schema = await tenant();
    const refused = await cli(["migrate", "up", "--tenant", schema], { SQL_DIR: dir });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("blocks writes to tasks");
    writeFileSync(fresh, readFileSync(fresh, "utf8").replace("create index tasks_", "-- squawk-ignore require-concurrent-index-creation -- tasks is small in every tenant\ncreate index tasks_"));
    expect((await cli(["migrate", "lint", fresh])).code).toBe(0);
    expect((await cli(["migrate", "up", "--tenant", schema], { SQL_DIR: dir })).code).toBe(0);
  });

  test("usage errors exit 2 and print the usage", async () => {
    const r = await cli(["migrate", "up"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("--tenant <schema>, --all or --public");
    expect((await cli(["migrate", "up", "--all", "--to", "1"])).code).toBe(2);
    expect((await cli(["migrate", "up", "--tenant", "x", "--wave", "2"])).code).toBe(2);
    expect((await cli(["migrate", "down", "--run", "1", "--tenant", "x"])).code).toBe(2);
    expect((await cli(["migrate", "up", "--bogus"])).code).toBe(2);
    expect((await cli(["--help"])).stdout).toContain("tenant-todo migrate up");
  });
});

