// Start-up migration of the public schema: on a brand-new database, many instances at once.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Sql } from "../../src/db/client";
import { freePort } from "../../src/db/embedded";
import { readApplied, migratePublic } from "../../src/migrator/migrator";
import { database, source, slowMachine, testConfig, uniqueSchema } from "../support/db";

slowMachine();

const name = uniqueSchema("tt_start");
let admin: Sql;
let url: string;

beforeAll(async () => {
  const db = await database();
  admin = db.sql;
  await admin`create database ${admin(name)}`;
  const u = new URL(db.url);
  u.pathname = `/${name}`;
  url = u.toString();
});
afterAll(async () => {
  await admin`drop database if exists ${admin(name)} with (force)`;
});

test("8 instances starting at once on an empty database migrate the registry once, all succeed", async () => {
  const instances = Array.from({ length: 8 }, () => connect(url, testConfig, { max: 2 }));
  try {
    const results = await Promise.all(instances.map((sql) => migratePublic(sql, source)));
    expect(results.flatMap((r) => r.applied).sort()).toEqual(source.public.map((m) => m.file));
    expect(results.every((r) => r.to === source.public.length)).toBe(true);
    expect((await readApplied(instances[0]!, "public"))!.map((a) => a.version)).toEqual(source.public.map((m) => m.version));
    // A restart is a no-op.
    expect((await migratePublic(instances[0]!, source)).applied).toEqual([]);
  } finally {
    await Promise.all(instances.map((sql) => sql.end()));
  }
});

describe("start-up while the database is unreachable or full", () => {
  async function serve(databaseUrl: string) {
    const proc = Bun.spawn(["bun", join(import.meta.dir, "../../src/index.ts")], {
      env: { ...process.env, DATABASE_URL: databaseUrl, DB_STARTUP_WAIT_S: "2", PORT: "0", LOG_LEVEL: "warn" },
      stdout: "pipe",
      stderr: "pipe",
    });
    const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { code, waits: stdout.split("\n").filter((l) => l.includes("waiting for the database")).map((l) => JSON.parse(l)), stderr };
  }

  test("nothing listening: a log line per attempt naming the cause, then exit 1 with it", async () => {
    const r = await serve(`postgres://postgres@127.0.0.1:${await freePort()}/postgres`);
    expect(r.code).toBe(1);
    expect(r.waits.length).toBeGreaterThanOrEqual(1);
    expect(r.waits[0].cause).toMatch(/refused|connect/i);
    expect(r.stderr).toMatch(/did not answer within 2 s: .*(refused|connect)/i);
    expect(r.stderr).not.toContain("DATABASE_URL");
  });

  // A pooler authenticates roles itself: this one needs PostgreSQL directly.
  test.skipIf(!testConfig.dbPrepare)("full (no connection allowed for the role): the cause is PostgreSQL's own words", async () => {
    const role = uniqueSchema("tt_full");
    // A password, for a server that asks for one (the embedded default does).
    await admin.unsafe(`create role ${role} login password '${role}' connection limit 0`);
    try {
      const r = await serve(`postgres://${role}:${role}@${new URL(url).host}/postgres`);
      expect(r.code).toBe(1);
      expect(r.waits[0].cause).toContain("too many connections");
      expect(r.stderr).toContain("SQLSTATE 53300");
    } finally {
      await admin.unsafe(`drop role if exists ${role}`);
    }
  });
});
