// Start-up migration of the public schema: on a brand-new database, many instances at once.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { connect, type Sql } from "../../src/db/client";
import { readApplied, migratePublic } from "../../src/migrator/migrator";
import { database, source, testConfig, uniqueSchema } from "../support/db";

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
