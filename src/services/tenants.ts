// Tenant lifecycle: create (schema at head, registry row, optional first user: one transaction),
// migrate or revert one tenant, suspend/resume, and drop (schema and registry rows together).
// Every verb checks the schema name and that the tenant exists, here and nowhere else.
import type { Sql } from "../db/client";
import { isHost, isSchemaName, schemaFor } from "../db/names";
import { deleteTenant, insertTenant, setRevision, setTenantStatus, tenantBySchema, type Tenant, type TenantStatus } from "../db/tenants";
import { Invalid, NotFound } from "../errors";
import { Blocked } from "../migrator/errors";
import { migrateTenant, revertTenant } from "../migrator/fleet";
import type { Migration } from "../migrator/files";
import { createSchema, lockSchema, type Limits } from "../migrator/migrator";
import { backoffMs } from "../migrator/stages";
import type { NewTenant } from "../models";
import type { AuthCache } from "./cache";

function checkSchemaName(schema: string) {
  if (!isSchemaName(schema))
    throw new Invalid(`invalid schema name "${schema.slice(0, 80)}": use ^[a-z][a-z0-9_]{0,62}$, not public, pg_* or information_schema`);
}

function normalise(input: Omit<NewTenant, "admin">) {
  const name = input.name.trim();
  if (!name || name.length > 200) throw new Invalid("name must be 1 to 200 characters");
  const schema = input.schema ?? schemaFor(name);
  checkSchemaName(schema);
  const host = input.host?.trim().toLowerCase() || null;
  if (host && !isHost(host)) throw new Invalid(`invalid host "${host.slice(0, 80)}"`);
  return { name, schema, host };
}

/**
 * Creates the schema at head and registers the tenant in one transaction, then runs `inside` (e.g.
 * the first admin) in that same transaction: a failure anywhere leaves nothing behind. Files that
 * cannot run in a transaction (if any) run right after the commit, the tenant kept suspended until
 * they are done, and dropped again if one fails.
 */
export async function createTenant<T = undefined>(
  sql: Sql,
  local: readonly Migration[],
  input: Omit<NewTenant, "admin">,
  inside?: (tx: Sql, tenant: Tenant) => Promise<T>,
): Promise<[Tenant, T]> {
  const row = normalise(input);
  const complete = local.every((m) => m.transaction);
  const [tenant, extra] = await sql.begin(async (tx) => {
    const created = await insertTenant(tx, { ...row, status: complete ? "active" : "suspended" });
    const tenant = { ...created, ...(await createSchema(tx, row.schema, local, { onApplied: setRevision })) };
    return [tenant, inside ? await inside(tx, tenant) : (undefined as T)] as const;
  });
  if (complete) return [tenant, extra];
  try {
    await migrateTenant(sql, local, tenant.schema);
    return [await setTenantStatus(sql, tenant.schema, "active").then((t) => t!), extra];
  } catch (error) {
    await dropTenant(sql, tenant.schema).catch((cleanup: Error) => {
      if (error instanceof Error) error.message += ` (and the half-made ${tenant.schema} could not be dropped: ${cleanup.message})`;
    });
    throw error;
  }
}

export async function getTenant(sql: Sql, schema: string): Promise<Tenant> {
  checkSchemaName(schema);
  const tenant = await tenantBySchema(sql, schema);
  if (!tenant) throw new NotFound(`tenant ${schema}`);
  return tenant;
}

/**
 * Migrates one registered tenant (to a revision, or as a dry run), keeping the registry in step;
 * a lock not granted is tried again `limits.retries` times with backoff, then Blocked is thrown.
 */
export async function migrateOne(
  sql: Sql,
  local: readonly Migration[],
  schema: string,
  options: { to?: number; dryRun?: boolean; limits?: Limits & { retries?: number } } = {},
) {
  await getTenant(sql, schema);
  for (let attempt = 1; ; attempt++) {
    try {
      return await migrateTenant(sql, local, schema, options);
    } catch (error) {
      if (!(error instanceof Blocked) || attempt > (options.limits?.retries ?? 0)) throw error;
      await Bun.sleep(backoffMs(options.limits!.lockTimeoutMs, attempt));
    }
  }
}

/** Reverts the last `steps` files of one registered tenant. */
export async function revertOne(sql: Sql, local: readonly Migration[], schema: string, options: { steps?: number; dryRun?: boolean; limits?: Limits } = {}) {
  await getTenant(sql, schema);
  return revertTenant(sql, local, schema, options);
}

/** Suspended tenants answer 403 on every tenant route; their data stays. */
export async function setStatus(sql: Sql, cache: AuthCache, schema: string, status: TenantStatus): Promise<Tenant> {
  checkSchemaName(schema);
  const tenant = await setTenantStatus(sql, schema, status);
  if (!tenant) throw new NotFound(`tenant ${schema}`);
  cache.evictTenant(schema);
  return tenant;
}

/** Drops the schema and its registry rows (accounts cascade) under the schema's migration lock. */
export async function dropTenant(sql: Sql, schema: string, cache?: AuthCache): Promise<void> {
  checkSchemaName(schema);
  await sql.begin(async (tx) => {
    await lockSchema(tx, schema);
    if (!(await deleteTenant(tx, schema))) throw new NotFound(`tenant ${schema}`);
    await tx.unsafe(`drop schema if exists "${schema}" cascade`);
  });
  cache?.evictTenant(schema);
}
