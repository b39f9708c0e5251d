// Tenant lifecycle: create (schema, migrations, registry row, optional first user: one transaction)
// and drop (schema and registry rows together).
import type { Db, Sql } from "../db/client";
import { isSchemaName, schemaFor } from "../db/names";
import { deleteTenant, insertTenant, setRevision, tenantBySchema, type Tenant } from "../db/tenants";
import { Invalid, NotFound } from "../errors";
import { migrateTenant } from "../migrator/fleet";
import { chainChecksum, type Migration } from "../migrator/files";
import { applyInTransaction, createMigrationsTable, lockSchema } from "../migrator/migrator";

export type NewTenant = { name: string; schema?: string; host?: string | null };

const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

export function checkSchemaName(schema: string) {
  if (!isSchemaName(schema))
    throw new Invalid(`invalid schema name "${schema.slice(0, 80)}": use ^[a-z][a-z0-9_]{0,62}$, not public, pg_* or information_schema`);
}

function normalise(input: NewTenant) {
  const name = input.name.trim();
  if (!name || name.length > 200) throw new Invalid("name must be 1 to 200 characters");
  const schema = input.schema ?? schemaFor(name);
  checkSchemaName(schema);
  const host = input.host?.trim().toLowerCase() || null;
  if (host && (host.length > 253 || !HOST.test(host))) throw new Invalid(`invalid host "${host.slice(0, 80)}"`);
  return { name, schema, host };
}

/**
 * Creates the schema, applies every migration and registers the tenant in one transaction, then runs
 * `inside` (e.g. the first admin) in that same transaction: a failure anywhere leaves nothing behind.
 */
export async function createTenant<T = undefined>(
  sql: Sql,
  local: readonly Migration[],
  input: NewTenant,
  inside?: (tx: Db, tenant: Tenant) => Promise<T>,
): Promise<[Tenant, T]> {
  const row = normalise(input);
  const [tenant, extra] = (await sql.begin(async (tx) => {
    const created = await insertTenant(tx, row);
    await tx`create schema ${tx(row.schema)}`;
    await createMigrationsTable(tx, row.schema);
    // Files that cannot run in a transaction wait until after the commit (below).
    const firstOutside = local.findIndex((m) => !m.transaction);
    const inTransaction = firstOutside < 0 ? local : local.slice(0, firstOutside);
    for (const m of inTransaction) await applyInTransaction(tx, row.schema, m);
    const revision = inTransaction.length;
    await setRevision(tx, row.schema, revision, chainChecksum(local, revision));
    const tenant = { ...created, revision, checksum: chainChecksum(local, revision) };
    return [tenant, inside ? await inside(tx, tenant) : undefined] as [Tenant, T];
  })) as [Tenant, T];
  if (tenant.revision === local.length) return [tenant, extra];
  try {
    const result = await migrateTenant(sql, local, tenant.schema);
    return [{ ...tenant, revision: result.to, checksum: chainChecksum(local, result.to) }, extra];
  } catch (error) {
    await dropTenant(sql, tenant.schema);
    throw error;
  }
}

/** Drops the schema and its registry rows (accounts cascade) under the schema's migration lock. */
export async function dropTenant(sql: Sql, schema: string): Promise<void> {
  checkSchemaName(schema);
  await sql.begin(async (tx) => {
    await lockSchema(tx, schema);
    if (!(await deleteTenant(tx, schema))) throw new NotFound(`tenant ${schema}`);
    await tx`drop schema if exists ${tx(schema)} cascade`;
  });
}

export async function getTenant(sql: Db, schema: string): Promise<Tenant> {
  checkSchemaName(schema);
  const tenant = await tenantBySchema(sql, schema);
  if (!tenant) throw new NotFound(`tenant ${schema}`);
  return tenant;
}
