// Fleet migration runs as operators use them; /cc and the CLI call these and nothing else. A run
// is recorded before it starts, walks the fleet in stages (run-driver.ts), and can be read from any
// instance, cancelled, resumed (when stopped, or when its owner died) and reverted: the down
// sections of exactly what it applied, on exactly the tenants where it applied them.
import type { Sql } from "../db/client";
import { appliedBy, claimRun, finishRun, insertRun, listRuns, recordTenant, requestCancel, runById, runTenants, setPlan, settledSchemas, type Run } from "../db/runs";
import { listTenants, tenantBySchema, type Tenant } from "../db/tenants";
import { Conflict, Invalid, NotFound } from "../errors";
import { Blocked } from "../migrator/errors";
import { chainChecksum, type Migration } from "../migrator/files";
import { migrateTenant, revertTenant } from "../migrator/fleet";
import { readApplied, type Limits, type OnApplied } from "../migrator/migrator";
import { refuseUnsafe } from "../migrator/safety";
import { planStages } from "../migrator/stages";
import { launch, OWNER, stopLocal, type Plan, type Settled, type Started } from "./run-driver";

export type { RunReport, Settled, Started, TenantReport } from "./run-driver";

type Common = { concurrency: number; limits: Limits & { retries: number }; maxFailures?: number; onProgress?: Plan["onProgress"] };
export type StartOptions = Common & { dryRun?: boolean; schemas?: string[]; canary?: number | string[]; wave?: number };
export type RevertOptions = Common & { dryRun?: boolean; wave?: number };

/** What a run keeps of how it was started, for resuming it the same way. */
type Stored = { canary?: number | string[]; wave?: number; max_failures: number | null; concurrency: number; schemas?: string[] };

const OUTCOMES = ["migrated", "reverted", "unchanged", "failed", "blocked", "refused"] as const;

/** The run with every count spelled out: `unchanged` includes tenants already at the target, `remaining` those not yet started. */
export function present(run: Run) {
  const n = (key: string) => run.counts[key] ?? 0;
  const settled = OUTCOMES.reduce((sum, o) => sum + n(o), 0);
  const counts = Object.fromEntries(OUTCOMES.map((o) => [o, n(o)]));
  counts.unchanged! += Math.max(0, n("total") - n("planned"));
  return { ...run, counts: { total: n("total"), planned: n("planned"), ...counts, remaining: Math.max(0, n("planned") - settled) } };
}

async function existing(sql: Sql, id: number): Promise<Run> {
  const run = await runById(sql, id);
  if (!run) throw new NotFound(`run ${id}`);
  return run;
}

export async function getRun(sql: Sql, id: number) {
  return { ...present(await existing(sql, id)), tenants: await runTenants(sql, id) };
}

export async function recentRuns(sql: Sql, limit = 20, before?: number) {
  return (await listRuns(sql, limit, before)).map(present);
}

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

function failed(error: unknown, base: Omit<Settled, "outcome">) {
  const blocked = error instanceof Blocked;
  const result: Settled = { ...base, outcome: blocked ? "blocked" : "failed", error: error instanceof Error ? error.message : String(error) };
  return { blocked, result };
}

/** Tenants below the target; at it with other files than ours, or (at the head) past it: drift, they fail saying so. */
function behind(tenants: Tenant[], local: readonly Migration[], target: number) {
  const checksum = chainChecksum(local, target);
  return tenants.filter((t) => t.revision < target || (t.revision === target && t.checksum !== checksum) || (target === local.length && t.revision > target));
}

/** Refuses, before anything is recorded, a plan that would run an unsafe file on a tenant with data. */
function checkFiles(local: readonly Migration[], todo: Tenant[], target: number) {
  const lowest = Math.min(...todo.filter((t) => t.revision > 0).map((t) => t.revision));
  if (Number.isFinite(lowest)) refuseUnsafe(local.slice(lowest, target));
}

function upPlan(sql: Sql, local: readonly Migration[], run: Run, scope: Tenant[], todo: Tenant[], o: Common & { canary?: number | string[]; wave?: number }): Plan {
  const target = run.target!;
  const to = target < local.length ? target : undefined; // a run resumed by a newer release stops at its own target
  const revision = new Map(todo.map((t) => [t.schema, t.revision]));
  const attempt = counter();
  const { signal, heard } = cancelSignal();
  return {
    run,
    signal,
    head: target,
    stages: planStages([...revision.keys()], o),
    scope: scope.map((t) => ({ schema: t.schema, revision: t.revision })),
    maxFailures: o.maxFailures ?? Infinity,
    concurrency: o.concurrency,
    limits: o.limits,
    onProgress: o.onProgress,
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

/** Migrates the fleet (or the tenants named) to the head, recorded as a new run. */
export async function startRun(sql: Sql, local: readonly Migration[], actor: string, o: StartOptions): Promise<Started> {
  const scope = await listTenants(sql, o.schemas);
  if (Array.isArray(o.canary)) {
    const known = new Set(scope.map((t) => t.schema));
    const unknown = o.canary.filter((s) => !known.has(s));
    if (unknown.length) throw new Invalid(`canary tenants not found${o.schemas ? " among schemas" : ""}: ${unknown.slice(0, 5).join(", ")}`, [{ path: "/canary" }]);
  }
  const target = local.length;
  const todo = behind(scope, local, target);
  checkFiles(local, todo, target);
  // A canary exists to stop the run when it fails: with one, no failure is tolerated unless max_failures says so.
  const maxFailures = o.maxFailures ?? (o.canary !== undefined ? 0 : undefined);
  const options: Stored = {
    ...(o.canary !== undefined && { canary: o.canary }),
    ...(o.wave && { wave: o.wave }),
    max_failures: maxFailures ?? null,
    concurrency: o.concurrency,
    ...(o.schemas && { schemas: o.schemas }),
  };
  const counts = { total: scope.length, planned: todo.length };
  const done = todo.length === 0; // a no-op pass: recorded, nothing to drive
  const run = await insertRun(sql, { kind: "up", actor, target, reverts: null, dry_run: Boolean(o.dryRun), options, counts, owner: OWNER, done });
  return launch(sql, upPlan(sql, local, run, scope, todo, { ...o, maxFailures }));
}

/** The tenants a revert of `id` must undo, after checking every file it needs has a down section here. */
async function revertTargets(sql: Sql, local: readonly Migration[], id: number) {
  const rows = await appliedBy(sql, id);
  for (const row of rows)
    for (let v = row.from + 1; v <= row.to; v++) {
      const m = local[v - 1];
      if (!m) throw new Conflict(`run ${id} applied revision ${v}, which this release does not have: revert it from the release that ran it`);
      if (!m.down) throw new Conflict(`${m.file} has no "-- migrate:down" section: run ${id} cannot be reverted`);
    }
  return rows;
}

function revertPlan(sql: Sql, local: readonly Migration[], run: Run, rows: Awaited<ReturnType<typeof appliedBy>>, o: RevertOptions): Plan {
  const applied = new Map(rows.map((r) => [r.schema, r]));
  const id = run.reverts!;
  const attempt = counter();
  const { signal, heard } = cancelSignal();
  return {
    run,
    signal,
    head: local.length,
    stages: planStages([...applied.keys()], { wave: o.wave }),
    scope: rows.map((r) => ({ schema: r.schema, revision: r.to })),
    maxFailures: o.maxFailures ?? Infinity,
    concurrency: o.concurrency,
    limits: o.limits,
    onProgress: o.onProgress,
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

/** Runs the down sections of what run `id` applied, where it applied them, newest first: a new run. */
export async function revertRun(sql: Sql, local: readonly Migration[], id: number, actor: string, o: RevertOptions): Promise<Started> {
  const original = await existing(sql, id);
  if (original.kind === "revert") throw new Conflict(`run ${id} is itself a revert: to apply its files again, run migrate up`);
  if (original.dry_run) throw new Conflict(`run ${id} was a dry run: it applied nothing`);
  if (original.status === "running") throw new Conflict(`run ${id} is still running: cancel it first`);
  const rows = await revertTargets(sql, local, id);
  const options: Stored = { ...(o.wave && { wave: o.wave }), max_failures: o.maxFailures ?? null, concurrency: o.concurrency };
  const counts = { total: rows.length, planned: rows.length };
  const run = await insertRun(sql, { kind: "revert", actor, target: null, reverts: id, dry_run: Boolean(o.dryRun), options, counts, owner: OWNER });
  return launch(sql, revertPlan(sql, local, run, rows, o));
}

/**
 * Goes on with a run that is not running (halted, cancelled, failed, or done with tenants left
 * failed or blocked) or whose owner died: the tenants it has not finished with, failed and blocked
 * ones included; its canary is behind it.
 */
export async function resumeRun(sql: Sql, local: readonly Migration[], id: number, actor: string, o: Common): Promise<Started> {
  const before = await existing(sql, id);
  if (before.status === "running") throw new Conflict(`run ${id} is running (its owner last beat at ${before.heartbeat_at.toISOString()}): cancel it or wait`);
  if (before.kind === "up" && before.target! > local.length)
    throw new Conflict(`run ${id} migrates to revision ${before.target}, beyond this release's head ${local.length}: resume it from a release that has its files`);
  const run = await claimRun(sql, id, OWNER, actor);
  if (!run) throw new Conflict(`run ${id} was just resumed or finished by someone else`);
  const stored = run.options as Stored;
  const options = { ...o, wave: stored.wave, maxFailures: o.maxFailures ?? stored.max_failures ?? undefined, dryRun: run.dry_run };
  try {
    const settled = await settledSchemas(sql, id);
    let plan: Plan;
    if (run.kind === "up") {
      const scope = await listTenants(sql, stored.schemas);
      const todo = behind(scope, local, run.target!).filter((t) => !settled.has(t.schema));
      checkFiles(local, todo, run.target!);
      plan = upPlan(sql, local, run, scope, todo, options);
    } else {
      const rows = (await revertTargets(sql, local, run.reverts!)).filter((r) => !settled.has(r.schema));
      plan = revertPlan(sql, local, run, rows, options);
    }
    await setPlan(sql, id, OWNER, { total: plan.scope.length + (run.kind === "revert" ? settled.size : 0), planned: settled.size + plan.stages.flat().length });
    return launch(sql, plan);
  } catch (error) {
    await finishRun(sql, id, OWNER, "failed", error instanceof Error ? error.message : String(error));
    throw error;
  }
}

/** A live run stops after its tenants in flight (202); a stopped or orphaned one is cancelled at once. */
export async function cancelRun(sql: Sql, id: number, actor: string): Promise<Run> {
  const run = await requestCancel(sql, id, actor);
  if (!run) throw new Conflict(`run ${id} is ${(await existing(sql, id)).status}: nothing to cancel`);
  stopLocal(id, "cancelled", `cancelled by ${actor}`);
  return run;
}
