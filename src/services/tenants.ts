// Tenant lifecycle: create (schema, migrations, registry row, optional first user: one transaction),
// suspend/resume, and drop (schema and registry rows together).
import type { Db, Sql } from "../db/client";
import { isSchemaName, schemaFor } from "../db/names";
import { deleteTenant, insertTenant, setRevision, setTenantStatus, tenantBySchema, type Tenant, type TenantStatus } from "../db/tenants";
import { Invalid, NotFound } from "../errors";
import { migrateTenant } from "../migrator/fleet";
import { chainChecksum, type Migration } from "../migrator/files";
import { applyInTransaction, createMigrationsTable, lockSchema } from "../migrator/migrator";

import type { NewTenant } from "../models";

const HOST = /^[a-z0-9]([a-z0-9-]*[a-z0-9])?(\.[a-z0-9]([a-z0-9-]*[a-z0-9])?)*(:\d{1,5})?$/;

export function checkSchemaName(schema: string) {
  if (!isSchemaName(schema))
    throw new Invalid(`invalid schema name "${schema.slice(0, 80)}": use ^[a-z][a-z0-9_]{0,62}$, not public, pg_* or information_schema`);
}

function normalise(input: Omit<NewTenant, "admin">) {
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
 * Files that cannot run in a transaction (if any) run right after the commit, the tenant kept
 * suspended until they are done, and dropped again if one fails.
 */
export async function createTenant<T = undefined>(
  sql: Sql,
  local: readonly Migration[],
  input: Omit<NewTenant, "admin">,
  inside?: (tx: Db, tenant: Tenant) => Promise<T>,
): Promise<[Tenant, T]> {
  const row = normalise(input);
  const firstOutside = local.findIndex((m) => !m.transaction);
  const inTransaction = firstOutside < 0 ? local : local.slice(0, firstOutside);
  const [tenant, extra] = (await sql.begin(async (tx) => {
    const created = await insertTenant(tx, { ...row, status: firstOutside < 0 ? "active" : "suspended" });
    await tx.unsafe(`create schema "${row.schema}"`); // validated; DDL is never prepared (see migrator.ts)
    await createMigrationsTable(tx, row.schema);
    for (const m of inTransaction) await applyInTransaction(tx, row.schema, m);
    const checksum = chainChecksum(local, inTransaction.length);
    await setRevision(tx, row.schema, inTransaction.length, checksum);
    const tenant = { ...created, revision: inTransaction.length, checksum };
    return [tenant, inside ? await inside(tx, tenant) : undefined] as [Tenant, T];
  })) as [Tenant, T];
  if (firstOutside < 0) return [tenant, extra];
  try {
    await migrateTenant(sql, local, tenant.schema);
    return [await setStatus(sql, tenant.schema, "active"), extra];
  } catch (error) {
    await dropTenant(sql, tenant.schema).catch((cleanup: Error) => {
      if (error instanceof Error) error.message += ` (and the half-made ${tenant.schema} could not be dropped: ${cleanup.message})`;
    });
    throw error;
  }
}

/** Suspended tenants answer 403 on every tenant route; their data stays. */
export async function setStatus(sql: Db, schema: string, status: TenantStatus): Promise<Tenant> {
  checkSchemaName(schema);
  const tenant = await setTenantStatus(sql, schema, status);
  if (!tenant) throw new NotFound(`tenant ${schema}`);
  return tenant;
}

/** Drops the schema and its registry rows (accounts cascade) under the schema's migration lock. */
export async function dropTenant(sql: Sql, schema: string): Promise<void> {
  checkSchemaName(schema);
  await sql.begin(async (tx) => {
    await lockSchema(tx, schema);
    if (!(await deleteTenant(tx, schema))) throw new NotFound(`tenant ${schema}`);
    await tx.unsafe(`drop schema if exists "${schema}" cascade`);
  });
}

export async function getTenant(sql: Db, schema: string): Promise<Tenant> {
  checkSchemaName(schema);
  const tenant = await tenantBySchema(sql, schema);
  if (!tenant) throw new NotFound(`tenant ${schema}`);
  return tenant;
}
