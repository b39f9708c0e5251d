// The migrator against real PostgreSQL, on schemas of its own (random names, dropped afterwards).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, type Sql } from "../../src/db/client";
import { Blocked, MigrationError, UnsafeMigration } from "../../src/migrator/errors";
import { down, readApplied, schemaStatus, up } from "../../src/migrator/migrator";
import { database, holdLock, slowMachine, testConfig, uniqueSchema } from "../support/db";
import { chainOnDisk, migrationFile } from "../support/migrations";

slowMachine();

let sql: Sql;
const schemas: string[] = [];

async function freshSchema() {
  const schema = uniqueSchema("mig");
  schemas.push(schema);
  await sql`create schema ${sql(schema)}`;
  return schema;
}

const tables = async (schema: string) =>
  (await sql<{ table_name: string }[]>`select table_name from information_schema.tables where table_schema = ${schema} order by 1`).map((r) => r.table_name);

beforeAll(async () => {
  sql = (await database()).sql;
});
afterAll(async () => {
  for (const s of schemas) await sql`drop schema if exists ${sql(s)} cascade`;
});

const chain = [
  migrationFile(1, "create table a (id int primary key);", "drop table a;"),
  migrationFile(2, "create table b (id int primary key, a_id int references a);", "drop table b;"),
  migrationFile(3, "alter table a add column note text;", "alter table a drop column note;"),
];

describe("up / down / status", () => {
  test("up applies every file into the schema and records each one there", async () => {
    const schema = await freshSchema();
    const result = await up(sql, schema, chain);
    expect(result).toMatchObject({ schema, from: 0, to: 3, applied: chain.map((m) => m.file) });
    expect(await tables(schema)).toEqual(["a", "b", "schema_migrations"]);
    const applied = (await readApplied(sql, schema))!;
    expect(applied.map((a) => [a.version, a.name, a.checksum])).toEqual(chain.map((m) => [m.version, m.name, m.checksum]));
    expect(applied[0]!.applied_at).toBeInstanceOf(Date);
    expect(applied[0]!.duration).toMatch(/^\d\d:\d\d:\d\d/);
    expect((await up(sql, schema, chain)).applied).toEqual([]);
  });

  test("--to stops at a revision; status shows what is pending", async () => {
    const schema = await freshSchema();
    expect((await up(sql, schema, chain, { to: 1 })).to).toBe(1);
    const s = await schemaStatus(sql, schema, chain);
    expect(s).toMatchObject({ revision: 1, head: 3, pending: ["0002_step_2.sql", "0003_step_3.sql"] });
    expect(s.error).toBeUndefined();
  });

  test("down reverts the newest files with their down sections", async () => {
    const schema = await freshSchema();
    await up(sql, schema, chain);
    const result = await down(sql, schema, chain, { steps: 2 });
    expect(result).toMatchObject({ from: 3, to: 1, applied: ["0003_step_3.sql", "0002_step_2.sql"] });
    expect(await tables(schema)).toEqual(["a", "schema_migrations"]);
    const columns = await sql<{ column_name: string }[]>`select column_name from information_schema.columns where table_schema = ${schema} and table_name = 'a'`;
    expect(columns.map((c) => c.column_name)).toEqual(["id"]);
  });

  test("down refuses a file without a down section before reverting anything", async () => {
    const schema = await freshSchema();
    const noDown = [chain[0]!, migrationFile(2, "create table c (id int);")];
    await up(sql, schema, noDown);
    await expect(down(sql, schema, noDown)).rejects.toThrow(/0002_step_2.sql has no "-- migrate:down" section/);
    expect((await schemaStatus(sql, schema, noDown)).revision).toBe(2);
  });

  test("tenant SQL runs with search_path on its schema and never touches another", async () => {
    const [one, two] = [await freshSchema(), await freshSchema()];
    await up(sql, one, chain);
    expect(await tables(two)).toEqual([]);
    const [row] = await sql`show search_path`;
    expect(row!.search_path).not.toContain(one);
  });
});

describe("dry run", () => {
  test("reports what would run and changes nothing, not even the migrations table", async () => {
    const schema = await freshSchema();
    const catalog = () => sql`select relname from pg_class c join pg_namespace n on n.oid = c.relnamespace where nspname = ${schema} order by 1`;
    const before = await catalog();
    const result = await up(sql, schema, chain, { dryRun: true });
    expect(result).toMatchObject({ from: 0, to: 3, applied: chain.map((m) => m.file) });
    expect(await catalog()).toEqual(before);

    await up(sql, schema, chain, { to: 1 });
    const rows = await readApplied(sql, schema);
    const after = await catalog();
    expect((await up(sql, schema, chain, { dryRun: true })).applied).toEqual(["0002_step_2.sql", "0003_step_3.sql"]);
    expect((await down(sql, schema, chain, { dryRun: true })).applied).toEqual(["0001_step_1.sql"]);
    expect(await catalog()).toEqual(after);
    expect(await readApplied(sql, schema)).toEqual(rows);
  });
});

describe("refusals", () => {
  test("a file changed after it was applied stops up, naming the file and the schema", async () => {
    const schema = await freshSchema();
    await up(sql, schema, chain.slice(0, 2));
    const edited = [chain[0]!, migrationFile(2, "create table b (id bigint primary key);", "drop table b;"), chain[2]!];
    await expect(up(sql, schema, edited)).rejects.toThrow(`0002_step_2.sql changed after it was applied to ${schema}`);
    expect((await readApplied(sql, schema))!.length).toBe(2);
    expect(await tables(schema)).toEqual(["a", "b", "schema_migrations"]);
  });

  test("a file applied but missing locally stops up", async () => {
    const schema = await freshSchema();
    await up(sql, schema, chain);
    await expect(up(sql, schema, chain.slice(0, 2))).rejects.toThrow("0003_step_3.sql is applied to " + schema + " but missing locally");
  });

  test("a failing file is rolled back whole and keeps the earlier revision; the error names file and schema", async () => {
    const schema = await freshSchema();
    const broken = [chain[0]!, migrationFile(2, "create table half (id int);\nselect * from no_such_table;")];
    const error = await up(sql, schema, broken).catch((e) => e);
    expect(error).toBeInstanceOf(MigrationError);
    expect(error.message).toContain(`0002_step_2.sql failed on ${schema}`);
    expect(error.message).toContain("no_such_table");
    expect((await schemaStatus(sql, schema, broken)).revision).toBe(1);
    expect(await tables(schema)).toEqual(["a", "schema_migrations"]);
  });

  test("a schema that does not exist is refused, not created", async () => {
    const missing = uniqueSchema("nope");
    await expect(up(sql, missing, chain)).rejects.toThrow(`schema ${missing} does not exist`);
    const [row] = await sql`select to_regnamespace(${missing}) as oid`;
    expect(row!.oid).toBeNull();
  });
});

describe("locks and unsafe files", () => {
  test("a table locked from outside: the file that needs it gives up after lock_timeout with Blocked; earlier files stay", async () => {
    const schema = await freshSchema();
    await up(sql, schema, chain.slice(0, 1));
    const release = await holdLock(`${schema}.a`, "access share"); // a long report, say
    try {
      const error = await up(sql, schema, chain, { limits: { lockTimeoutMs: 100, statementTimeoutMs: 0 } }).catch((e) => e);
      // 0002 only references a (share row exclusive: granted); 0003 alters it and needs access exclusive.
      expect(error).toBeInstanceOf(Blocked);
      expect(error.message).toContain(`0003_step_3.sql on ${schema} is blocked`);
      expect(error.where).toEqual({ file: "0003_step_3.sql", schema });
      expect((await readApplied(sql, schema))!.map((a) => a.version)).toEqual([1, 2]);
    } finally {
      await release();
    }
    expect((await up(sql, schema, chain)).applied).toEqual(["0003_step_3.sql"]);
  });

  test("a plain create index is refused on a schema with data, before anything runs; a new schema takes it", async () => {
    const index = [...chain, migrationFile(4, "alter table a add column n int;\ncreate index a_n_idx on a (n);", "drop index a_n_idx;")];
    const schema = await freshSchema();
    await up(sql, schema, chain);
    const error = await up(sql, schema, index).catch((e) => e);
    expect(error).toBeInstanceOf(UnsafeMigration);
    expect(error.message).toContain('0004_step_4.sql: "create index a_n_idx on a (n)" blocks writes to a');
    expect((await up(sql, schema, index, { dryRun: true }).catch((e) => e)).constructor).toBe(UnsafeMigration);
    expect((await readApplied(sql, schema))!).toHaveLength(3);
    const fresh = await freshSchema();
    expect((await up(sql, fresh, index)).to).toBe(4);
  });
});

describe("no-transaction files", () => {
  const local = [
    chain[0]!,
    migrationFile(2, "create index concurrently a_id_idx on a (id);\ncreate index concurrently a_id2_idx on a (id);", "drop index a_id_idx; drop index a_id2_idx;", false),
  ];

  test("run statement by statement outside a transaction on a session, and are recorded", async () => {
    const schema = await freshSchema();
    if (!testConfig.dbPrepare) {
      // Through a transaction pooler (DB_PREPARE=false) there is no session: refused before running.
      await expect(up(sql, schema, local)).rejects.toThrow(/0002_step_2.sql runs outside a transaction and needs a session/);
      expect((await readApplied(sql, schema))!.map((a) => a.version)).toEqual([1]);
      expect(await sql`select indexname from pg_indexes where schemaname = ${schema} and indexname like 'a_id%'`).toHaveLength(0);
      return;
    }
    expect((await up(sql, schema, local)).applied).toEqual(["0001_step_1.sql", "0002_step_2.sql"]);
    const indexes = await sql<{ indexname: string }[]>`select indexname from pg_indexes where schemaname = ${schema} and tablename = 'a' order by 1`;
    expect(indexes.map((i) => i.indexname)).toEqual(["a_id2_idx", "a_id_idx", "a_pkey"]);
    expect((await readApplied(sql, schema))!.length).toBe(2);
  });

  test("hand the reserved connection back with the pool's own settings, not the migration's", async () => {
    if (!testConfig.dbPrepare) return; // refused through a transaction pooler (above)
    const { url } = await database();
    const one = connect(url, testConfig, { max: 1 });
    try {
      const before = await one`select current_setting('lock_timeout') as lock, current_setting('statement_timeout') as statement, current_setting('search_path') as path`;
      const schema = await freshSchema();
      await up(one, schema, local, { limits: { lockTimeoutMs: 123, statementTimeoutMs: 4567 } });
      expect(await one`select current_setting('lock_timeout') as lock, current_setting('statement_timeout') as statement, current_setting('search_path') as path`).toEqual(before);
    } finally {
      await one.close();
    }
  });
});

describe("concurrency", () => {
  test("8 migrators at once on the same schemas apply each file exactly once", async () => {
    const targets = [await freshSchema(), await freshSchema(), await freshSchema()];
    // Each file appends a row: applying one twice would show as a duplicate (or fail on the table).
    const local = [
      migrationFile(1, "create table log (step int primary key);"),
      migrationFile(2, "insert into log values (2); select pg_sleep(0.05);"),
      migrationFile(3, "insert into log values (3);"),
      migrationFile(4, "insert into log values (4); select pg_sleep(0.02);"),
    ];
    const { url } = await database();
    const migrators = Array.from({ length: 8 }, () => connect(url, testConfig, { max: 2 }));
    try {
      const results = await Promise.all(migrators.flatMap((m) => targets.map((schema) => up(m, schema, local))));
      for (const schema of targets) {
        const applied = results.filter((r) => r.schema === schema).flatMap((r) => r.applied);
        expect(applied.sort()).toEqual(local.map((m) => m.file));
        expect((await sql<{ step: number }[]>`select step from ${sql(schema)}.log order by step`).map((r) => r.step)).toEqual([2, 3, 4]);
        expect((await readApplied(sql, schema))!.map((a) => a.version)).toEqual([1, 2, 3, 4]);
      }
    } finally {
      await Promise.all(migrators.map((m) => m.end()));
    }
  });
});

describe("files on disk", () => {
  test("are loaded in order and checked for gaps before any database work", () => {
    const ok = chainOnDisk({ "0002_b.sql": "-- migrate:up\nselect 2;", "0001_a.sql": "-- migrate:up\nselect 1;", "README.txt": "ignored" });
    expect(ok.load().map((m) => m.file)).toEqual(["0001_a.sql", "0002_b.sql"]);
    const gap = chainOnDisk({ "0001_a.sql": "-- migrate:up\nselect 1;", "0003_c.sql": "-- migrate:up\nselect 3;" });
    expect(() => gap.load()).toThrow(/0003_c.sql: expected version 0002/);
  });
});
