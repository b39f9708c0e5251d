// What a run does to one tenant, for each kind of run: the plan (stages, scope, limits) and its
// `work`. An up run migrates to its target; a revert runs the down sections of what another run
// applied there. Either records each change in the change's own transaction (db/runs.ts).
import type { Sql } from "../db/client";
import { appliedBy, recordTenant, type Run } from "../db/runs";
import { tenantBySchema, type Tenant } from "../db/tenants";
import { Conflict } from "../errors";
import { Blocked } from "../migrator/errors";
import { chainChecksum, type Migration } from "../migrator/files";
import { migrateTenant, revertTenant } from "../migrator/fleet";
import { readApplied, type Limits, type OnApplied } from "../migrator/migrator";
import { refuseUnsafe } from "../migrator/safety";
import { planStages } from "../migrator/stages";
import type { Plan, Settled } from "./run-driver";

/** What every run takes: how many tenants at once, the migration limits, when to halt, who listens. */
export type Common = { concurrency: number; limits: Limits & { retries: number }; maxFailures?: number; onProgress?: Plan["onProgress"] };
export type RevertOptions = Common & { dryRun?: boolean; wave?: number };

const elapsed = (started: number) => Math.round(performance.now() - started);

/** Raised when a tenant's record answers that someone asked the run to stop. */
function cancelSignal() {
  const signal = { cancel: false };
  return { signal, heard: ({ cancel }: { cancel: boolean }) => void (signal.cancel ||= cancel) };
}

/** Counts each tenant's tries in this pass. */
function counter() {
  const tries = new Map<string, number>();
  return (schema: string) => {
    const n = (tries.get(schema) ?? 0) + 1;
    tries.set(schema, n);
    return n;
  };
}

/** What every kind of plan shares (the run, its cancel signal, how it walks), and for its `work`: `heard` and `attempt`. */
function planBase(run: Run, o: Common) {
  const { signal, heard } = cancelSignal();
  const plan = { run, signal, maxFailures: o.maxFailures ?? Infinity, concurrency: o.concurrency, limits: o.limits, onProgress: o.onProgress };
  return { plan, heard, attempt: counter() };
}

function failed(error: unknown, base: Omit<Settled, "outcome">) {
  const blocked = error instanceof Blocked;
  const result: Settled = { ...base, outcome: blocked ? "blocked" : "failed", error: error instanceof Error ? error.message : String(error) };
  return { blocked, result };
}

/** Tenants below the target; at it with other files than ours, or (at the head) past it: drift, they fail saying so. */
export function behind(tenants: Tenant[], local: readonly Migration[], target: number) {
  const checksum = chainChecksum(local, target);
  return tenants.filter((t) => t.revision < target || (t.revision === target && t.checksum !== checksum) || (target === local.length && t.revision > target));
}

/** Refuses, before anything is recorded, a plan that would run an unsafe file on a tenant with data. */
export function checkFiles(local: readonly Migration[], todo: Tenant[], target: number) {
  const lowest = Math.min(...todo.filter((t) => t.revision > 0).map((t) => t.revision));
  if (Number.isFinite(lowest)) refuseUnsafe(local.slice(lowest, target));
}

export function upPlan(sql: Sql, local: readonly Migration[], run: Run, scope: Tenant[], todo: Tenant[], o: Common & { canary?: number | string[]; wave?: number }): Plan {
  const target = run.target!;
  const to = target < local.length ? target : undefined; // a run resumed by a newer release stops at its own target
  const revision = new Map(todo.map((t) => [t.schema, t.revision]));
  const { plan, heard, attempt } = planBase(run, o);
  return {
    ...plan,
    head: target,
    stages: planStages([...revision.keys()], o),
    scope: scope.map((t) => ({ schema: t.schema, revision: t.revision })),
    async work(schema) {
      const from = revision.get(schema)!;
      const attempts = attempt(schema);
      const started = performance.now();
      // Recorded in each file's own transaction: the run's record and the change commit together.
      const also: OnApplied = (tx, _, now) =>
        recordTenant(tx, run.id, { schema, from, to: now, applied: [local[now - 1]!.file], outcome: "migrated", error: null, attempts, ms: elapsed(started) }).then(heard);
      try {
        const r = await migrateTenant(sql, local, schema, { to, dryRun: run.dry_run, limits: o.limits, also });
        revision.set(schema, r.to);
        return { blocked: false, result: { ...r, outcome: r.applied.length ? "migrated" : "unchanged" } };
      } catch (error) {
        // Files before the failing one stay applied (each had its own transaction): report where it stopped.
        const now = run.dry_run ? from : ((await tenantBySchema(sql, schema))?.revision ?? from);
        revision.set(schema, now);
        return failed(error, { schema, from, to: now, applied: local.slice(from, Math.max(from, now)).map((m) => m.file), ms: elapsed(started) });
      }
    },
  };
}

/** The tenants a revert of `id` must undo, after checking every file it needs has a down section here. */
export async function revertTargets(sql: Sql, local: readonly Migration[], id: number) {
  const rows = await appliedBy(sql, id);
  for (const row of rows)
    for (let v = row.from + 1; v <= row.to; v++) {
      const m = local[v - 1];
      if (!m) throw new Conflict(`run ${id} applied revision ${v}, which this release does not have: revert it from the release that ran it`);
      if (!m.down) throw new Conflict(`${m.file} has no "-- migrate:down" section: run ${id} cannot be reverted`);
    }
  return rows;
}

export function revertPlan(sql: Sql, local: readonly Migration[], run: Run, rows: Awaited<ReturnType<typeof appliedBy>>, o: RevertOptions): Plan {
  const applied = new Map(rows.map((r) => [r.schema, r]));
  const id = run.reverts!;
  const { plan, heard, attempt } = planBase(run, o);
  return {
    ...plan,
    head: local.length,
    stages: planStages([...applied.keys()], { wave: o.wave }),
    scope: rows.map((r) => ({ schema: r.schema, revision: r.to })),
    async work(schema) {
      const { from: low, to: high } = applied.get(schema)!;
      const attempts = attempt(schema);
      const started = performance.now();
      const settle = (outcome: Settled["outcome"], now: number, error?: string) => ({
        blocked: false,
        result: { schema, from: now, to: now, applied: [], ms: elapsed(started), outcome, ...(error && { error }) },
      });
      let now = high;
      try {
        if (!(await tenantBySchema(sql, schema))) return settle("refused", now, `${schema} no longer exists`);
        now = (await readApplied(sql, schema))?.at(-1)?.version ?? 0;
        if (now > high)
          return settle("refused", now, `${local[high]?.file ?? `revision ${high + 1}`} sits on top of what run ${id} applied (${schema} is at ${now}): revert that first`);
        if (now <= low) return settle("unchanged", now); // already reverted
        const from = now;
        const also: OnApplied = (tx, _, to) =>
          recordTenant(tx, run.id, { schema, from, to, applied: [local[to]!.file], outcome: "reverted", error: null, attempts, ms: elapsed(started) }).then(heard);
        const r = await revertTenant(sql, local, schema, { steps: now - low, dryRun: run.dry_run, limits: o.limits, also });
        if (!run.dry_run && r.to !== low) return { blocked: false, result: { ...r, outcome: "refused", error: `a later file was applied to ${schema} meanwhile: revert that first` } };
        return { blocked: false, result: { ...r, outcome: "reverted" } };
      } catch (error) {
        const to = (await tenantBySchema(sql, schema))?.revision ?? now;
        return failed(error, { schema, from: now, to, applied: local.slice(to, now).reverse().map((m) => m.file), ms: elapsed(started) });
      }
    },
  };
}
