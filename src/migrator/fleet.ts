// Migrations across the tenant fleet: the registry's copy of each revision finds who is behind in
// one query, then bounded concurrency migrates them, each under its own lock, past any failure.
import type { Sql } from "../db/client";
import { listTenants, setRevision, tenantBySchema, type Tenant } from "../db/tenants";
import { chainChecksum, type Migration } from "./files";
import { down, up, type Limits, type MigrationResult } from "./migrator";

export type TenantReport = MigrationResult & { error?: string };
export type FleetReport = {
  head: number;
  dry_run: boolean;
  total: number;
  migrated: number;
  failed: number;
  unchanged: number;
  ms: number;
  tenants: TenantReport[];
};

/** What the registry says of a tenant, without opening its schema. */
function registryStatus(tenant: Pick<Tenant, "revision" | "checksum">, local: readonly Migration[]) {
  const head = local.length;
  const drift =
    tenant.revision > head
      ? `revision ${tenant.revision} is ahead of the local head ${head} (files missing locally)`
      : tenant.checksum !== chainChecksum(local, tenant.revision)
        ? "applied files differ from the local ones (run migrate status --tenant for which)"
        : null;
  const pending = local.slice(tenant.revision).map((m) => m.file);
  return { revision: tenant.revision, head, pending, pending_count: pending.length, drift };
}

/** A registry row for operators: the registry's status instead of the raw chain checksum. */
export function withStatus(tenant: Tenant, local: readonly Migration[]) {
  const { checksum: _, ...rest } = tenant;
  return { ...rest, ...registryStatus(tenant, local) };
}

/** Every tenant with its revision, the head, what is pending and any drift: one query. */
export async function fleetStatus(sql: Sql, local: readonly Migration[]) {
  return (await listTenants(sql)).map((t) => withStatus(t, local));
}

/** up/down for one tenant, keeping the registry's copy of its revision in step. */
export function migrateTenant(sql: Sql, local: readonly Migration[], schema: string, options: { to?: number; dryRun?: boolean; limits?: Limits } = {}) {
  return up(sql, schema, local, { ...options, onApplied: setRevision });
}

export function revertTenant(sql: Sql, local: readonly Migration[], schema: string, options: { steps?: number; dryRun?: boolean; limits?: Limits } = {}) {
  return down(sql, schema, local, { ...options, onApplied: setRevision });
}

export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(limit, items.length)) }, worker));
  return results;
}

export async function migrateAll(
  sql: Sql,
  local: readonly Migration[],
  options: {
    dryRun?: boolean;
    concurrency?: number;
    limits?: Limits;
    /** Only these tenants (a canary); default: all of them. */
    schemas?: readonly string[];
    onProgress?: (report: TenantReport, done: number, total: number) => void;
  } = {},
): Promise<FleetReport> {
  const started = performance.now();
  const tenants = await listTenants(sql, options.schemas);
  const atHead = chainChecksum(local);
  const behind = tenants.filter((t) => t.revision !== local.length || t.checksum !== atHead);
  let done = 0;
  const reports = await mapLimit(behind, options.concurrency ?? sql.options.max ?? 4, async (tenant) => {
    let report: TenantReport;
    try {
      report = await migrateTenant(sql, local, tenant.schema, { dryRun: options.dryRun, limits: options.limits });
    } catch (error) {
      // Files before the failing one stay applied (each had its own transaction): report where it stopped.
      const to = (await tenantBySchema(sql, tenant.schema))?.revision ?? tenant.revision;
      const applied = local.slice(tenant.revision, to).map((m) => m.file);
      const message = error instanceof Error ? error.message : String(error);
      report = { schema: tenant.schema, from: tenant.revision, to, applied, ms: 0, error: message };
    }
    options.onProgress?.(report, ++done, behind.length);
    return report;
  });
  const bySchema = new Map(reports.map((r) => [r.schema, r]));
  const all = tenants.map(
    (t) => bySchema.get(t.schema) ?? { schema: t.schema, from: t.revision, to: t.revision, applied: [], ms: 0 },
  );
  return {
    head: local.length,
    dry_run: Boolean(options.dryRun),
    total: tenants.length,
    migrated: reports.filter((r) => !r.error && r.applied.length > 0).length,
    failed: reports.filter((r) => r.error).length,
    unchanged: tenants.length - reports.filter((r) => r.error || r.applied.length > 0).length,
    ms: Math.round(performance.now() - started),
    tenants: all,
  };
}
