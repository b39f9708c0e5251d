// Fleet migration runs as operators use them; /cc and the CLI call these and nothing else. A run
// is recorded before it starts, walks the fleet in stages (run-driver.ts), and can be read from any
// instance, cancelled, resumed (when stopped, or when its owner died) and reverted: the down
// sections of exactly what it applied, on exactly the tenants where it applied them.
import type { Sql } from "../db/client";
import { claimRun, finishRun, insertRun, listRuns, requestCancel, runById, runTenants, setPlan, settledSchemas, type Run } from "../db/runs";
import { listTenants } from "../db/tenants";
import { Conflict, Invalid, NotFound } from "../errors";
import type { Migration } from "../migrator/files";
import { launch, OWNER, stopLocal, type Plan, type Started } from "./run-driver";
import { behind, checkFiles, revertPlan, revertTargets, upPlan, type Common, type RevertOptions } from "./run-plans";

export type { RunReport, Settled, Started } from "./run-driver";

type StartOptions = Common & { dryRun?: boolean; schemas?: string[]; canary?: number | string[]; wave?: number };

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
