// Tenant lifecycle through the real code path: create is all-or-nothing, drop leaves nothing.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { Sql } from "../../src/db/client";
import { tenantBySchema } from "../../src/db/tenants";
import { AppError } from "../../src/errors";
import { chainChecksum } from "../../src/migrator/files";
import { readApplied } from "../../src/migrator/migrator";
import { addUser } from "../../src/services/users";
import { createTenant, dropTenant } from "../../src/services/tenants";
import { database, source, slowMachine, testConfig, uniqueSchema } from "../support/db";
import { migrationFile } from "../support/migrations";

slowMachine();

let sql: Sql;
const made: string[] = [];
const schemaExists = async (schema: string) => (await sql`select to_regnamespace(${schema}) is not null as ok`)[0]!.ok;
const tenantCount = async () => (await sql`select count(*)::int as n from public.tenants`)[0]!.n;
const namespaceCount = async () => (await sql`select count(*)::int as n from pg_namespace`)[0]!.n;

beforeAll(async () => {
  sql = (await database()).sql;
});
afterAll(async () => {
  for (const s of made) await dropTenant(sql, s).catch(() => {});
});

async function create(schema = uniqueSchema(), local = source.tenant, host?: string) {
  made.push(schema);
  return createTenant(sql, local, { name: `Company ${schema}`, schema, host });
}

describe("createTenant", () => {
  test("creates the schema at head and registers it with its revision and chain checksum", async () => {
    const [tenant] = await create();
    expect(tenant).toMatchObject({ status: "active", revision: source.tenant.length, checksum: chainChecksum(source.tenant) });
    expect(await schemaExists(tenant.schema)).toBe(true);
    expect((await readApplied(sql, tenant.schema))!.map((a) => a.version)).toEqual(source.tenant.map((m) => m.version));
    expect(await tenantBySchema(sql, tenant.schema)).toMatchObject({ id: tenant.id, revision: tenant.revision });
  });

  test("no constraint in a tenant schema points outside it (Citus schema-based sharding)", async () => {
    const [tenant] = await create();
    const outside = await sql`
      select c.conname, f.relname as target, fn.nspname as target_schema
      from pg_constraint c
      join pg_class t on t.oid = c.conrelid join pg_namespace tn on tn.oid = t.relnamespace
      join pg_class f on f.oid = c.confrelid join pg_namespace fn on fn.oid = f.relnamespace
      where c.contype = 'f' and tn.nspname = ${tenant.schema} and fn.nspname <> ${tenant.schema}`;
    expect([...outside]).toEqual([]);
    const inside = await sql`
      select count(*)::int as n from pg_constraint c join pg_class t on t.oid = c.conrelid
      join pg_namespace tn on tn.oid = t.relnamespace where c.contype = 'f' and tn.nspname = ${tenant.schema}`;
    expect(inside[0]!.n).toBeGreaterThan(0);
  });

  test("derives a schema from the name when none is given", async () => {
    const [tenant] = await createTenant(sql, source.tenant, { name: "Crème Brûlée & Co" });
    made.push(tenant.schema);
    expect(tenant.schema).toMatch(/^creme_brulee_co_[0-9a-f]{6}$/);
  });

  test("refuses hostile schema names and hosts with a 422, touching nothing", async () => {
    const [tenants, namespaces] = [await tenantCount(), await namespaceCount()];
    for (const schema of ["public", "pg_catalog", "information_schema", "a;drop schema public", 'x"y', "Ab", "a".repeat(64), "ünï"]) {
      const error = await createTenant(sql, source.tenant, { name: "x", schema }).catch((e) => e);
      expect(error).toBeInstanceOf(AppError);
      expect(error.status).toBe(422);
    }
    await expect(createTenant(sql, source.tenant, { name: "x", host: "evil host/<script>" })).rejects.toThrow(/invalid host/);
    expect([await tenantCount(), await namespaceCount()]).toEqual([tenants, namespaces]);
  });

  test("a taken schema or host is a conflict and leaves the first tenant as it was", async () => {
    const host = `h${crypto.randomUUID().slice(0, 8)}.example.test`;
    const [first] = await create(undefined, source.tenant, host);
    const sameSchema = await createTenant(sql, source.tenant, { name: "again", schema: first.schema }).catch((e) => e);
    expect(sameSchema.errno).toBe("23505");
    const other = uniqueSchema();
    const sameHost = await createTenant(sql, source.tenant, { name: "again", schema: other, host }).catch((e) => e);
    expect(sameHost.errno).toBe("23505");
    expect(await schemaExists(other)).toBe(false);
    expect(await tenantBySchema(sql, first.schema)).toMatchObject({ name: first.name, host });
  });

  test("a failing migration leaves no schema and no registry row", async () => {
    const schema = uniqueSchema();
    const broken = [...source.tenant, migrationFile(source.tenant.length + 1, "select * from missing_table;")];
    await expect(create(schema, broken)).rejects.toThrow(/missing_table/);
    expect(await schemaExists(schema)).toBe(false);
    expect(await tenantBySchema(sql, schema)).toBeUndefined();
  });

  test.if(!!testConfig.dbPrepare)("with a no-transaction file, the tenant is created, migrated to head and only then active", async () => {
    const local = [...source.tenant, migrationFile(source.tenant.length + 1, "create index concurrently tasks_title_idx on tasks (title);", undefined, false)];
    const [tenant] = await create(undefined, local);
    expect(tenant).toMatchObject({ status: "active", revision: local.length, checksum: chainChecksum(local) });
    expect((await readApplied(sql, tenant.schema))!.length).toBe(local.length);
  });

  test("a failing no-transaction migration (after the commit) is undone too", async () => {
    const schema = uniqueSchema();
    const broken = [...source.tenant, migrationFile(source.tenant.length + 1, "create index concurrently x on no_such (id);", undefined, false)];
    // Refused up front through a transaction pooler (DB_PREPARE=false); fails on the SQL otherwise.
    await expect(create(schema, broken)).rejects.toThrow(/no_such|needs a session/);
    expect(await schemaExists(schema)).toBe(false);
    expect(await tenantBySchema(sql, schema)).toBeUndefined();
  });

  test("a failure inside the same transaction (a taken admin email) rolls everything back", async () => {
    const [first] = await create();
    const email = `${uniqueSchema("u")}@example.test`;
    await sql.begin((tx) => addUser(tx, first, { email, password_hash: "x", first_name: "A", last_name: "B", role: "admin" }));
    const schema = uniqueSchema();
    const error = await createTenant(sql, source.tenant, { name: "dup", schema }, (tx, t) =>
      addUser(tx, t, { email, password_hash: "x", first_name: "C", last_name: "D", role: "admin" }),
    ).catch((e) => e);
    expect(error.errno).toBe("23505");
    expect(await schemaExists(schema)).toBe(false);
    expect(await tenantBySchema(sql, schema)).toBeUndefined();
  });
});

describe("dropTenant", () => {
  test("removes the schema, the registry row and the tenant's accounts", async () => {
    const [tenant] = await create();
    const email = `${uniqueSchema("u")}@example.test`;
    await sql.begin((tx) => addUser(tx, tenant, { email, password_hash: "x", first_name: "A", last_name: "B", role: "admin" }));
    await dropTenant(sql, tenant.schema);
    expect(await schemaExists(tenant.schema)).toBe(false);
    expect(await tenantBySchema(sql, tenant.schema)).toBeUndefined();
    expect(await sql`select 1 from public.accounts where email = ${email}`).toHaveLength(0);
  });

  test("refuses an unknown or hostile schema without dropping anything", async () => {
    const namespaces = await namespaceCount();
    await expect(dropTenant(sql, uniqueSchema())).rejects.toThrow(/not found/);
    await expect(dropTenant(sql, "public")).rejects.toThrow(/invalid schema name/);
    await expect(dropTenant(sql, "a; drop schema public cascade")).rejects.toThrow(AppError);
    expect(await namespaceCount()).toBe(namespaces);
  });
});
