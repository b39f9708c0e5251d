// The tenant fleet as the registry sees it: its copy of each revision finds who is behind (or
// drifted) in one query; migrating one tenant keeps that copy in step. Runs (services/runs.ts)
// walk the fleet with these.
import type { Sql } from "../db/client";
import { listTenants, setRevision, type Tenant } from "../db/tenants";
import { chainChecksum, type Migration } from "./files";
import { down, up, type Limits, type OnApplied } from "./migrator";

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

type Step = { dryRun?: boolean; limits?: Limits; also?: OnApplied };

/** Keeps the registry's revision in step, and runs `also` (a run's record of the change) in the same transaction. */
const inStep = (also?: OnApplied): OnApplied => (also ? async (tx, ...rest) => (await setRevision(tx, ...rest), await also(tx, ...rest)) : setRevision);

/** up/down for one tenant, keeping the registry's copy of its revision in step. */
export function migrateTenant(sql: Sql, local: readonly Migration[], schema: string, { also, ...options }: Step & { to?: number } = {}) {
  return up(sql, schema, local, { ...options, onApplied: inStep(also) });
}

export function revertTenant(sql: Sql, local: readonly Migration[], schema: string, { also, ...options }: Step & { steps?: number } = {}) {
  return down(sql, schema, local, { ...options, onApplied: inStep(also) });
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
