// Drives one recorded run in this process: walks its stages, records the tenants it could not
// change (what it changed is recorded inside each migration's own transaction), beats every
// HEARTBEAT_MS, halts when failures pass max_failures, stops after the tenants in flight when
// cancelled (here at once, or through the record from any instance), and writes
// how it ended. If this process dies instead, the beat stops and the run reads as interrupted.
// (Each tenant's record also answers whether a cancel was asked for: heard at the next tenant.)
import { hostname } from "node:os";
import type { Sql } from "../db/client";
import { beat, finishRun, recordTenant, type Outcome, type Run, type RunStatus } from "../db/runs";
import type { MigrationResult } from "../migrator/migrator";
import { backoffMs, walkStages } from "../migrator/stages";

/** This process, as the owner of the runs it drives. */
export const OWNER = `${hostname()}:${process.pid}:${crypto.randomUUID().slice(0, 8)}`;
const HEARTBEAT_MS = 2000;

/** What a run did to one tenant. */
export type Settled = MigrationResult & { outcome: Outcome; error?: string; attempts?: number };
/** A tenant in a report: `pending` when the run stopped before it started there. */
export type TenantReport = Omit<Settled, "outcome"> & { outcome: Outcome | "pending" };

/** What one call did: the run's id and how it ended, the old fleet report's counts, and each tenant. */
export type RunReport = {
  run: number;
  kind: Run["kind"];
  status: RunStatus;
  message?: string;
  head: number;
  dry_run: boolean;
  total: number;
  migrated: number;
  reverted: number;
  unchanged: number;
  failed: number;
  blocked: number;
  refused: number;
  remaining: number;
  ms: number;
  tenants: TenantReport[];
};

export type Plan = {
  run: Run;
  head: number;
  stages: string[][];
  /** Every tenant the report lists: the planned ones and, for an up run, those already at the target. */
  scope: { schema: string; revision: number }[];
  work: (schema: string) => Promise<{ result: Settled; blocked: boolean }>;
  maxFailures: number;
  /** Set when a tenant's record answers that a cancel was asked for. */
  signal: { cancel: boolean };
  concurrency: number;
  limits: { lockTimeoutMs: number; retries: number };
  onProgress?: (report: Settled, done: number, total: number) => void;
};

export type Started = { run: Run; finished: Promise<RunReport> };

/** The runs this process drives: how to stop each, and each one's promise. */
const active = new Map<number, (status: RunStatus, message: string) => void>();
const drives = new Set<Promise<RunReport>>();

/** Starts driving; `finished` settles when the run stops (a failure is also written to the run). */
export function launch(sql: Sql, plan: Plan): Started {
  // Recorded as done already (nothing to do): nothing to drive.
  if (plan.run.status === "done") return { run: plan.run, finished: Promise.resolve(report(plan, new Map(), "done", undefined, 0)) };
  const finished = drive(sql, plan);
  finished.catch(() => {}); // an async caller reads the outcome from the record
  return { run: plan.run, finished };
}

/** A run driven here stops at once after its tenants in flight (cancel's fast path; the record carries it elsewhere). */
export function stopLocal(id: number, status: RunStatus, message: string): boolean {
  active.get(id)?.(status, message);
  return active.has(id);
}

/** Shutdown: every run driven here halts after its tenants in flight; waits for them up to `waitMs`. */
export async function haltAll(reason: string, waitMs: number) {
  for (const stop of active.values()) stop("halted", reason);
  await Promise.race([Promise.allSettled([...drives]), Bun.sleep(waitMs)]);
}

const merge = (a: Settled, b: Settled): Settled => ({ ...b, from: a.from, applied: [...a.applied, ...b.applied], ms: a.ms + b.ms });

function drive(sql: Sql, plan: Plan): Promise<RunReport> {
  const promise = driveRun(sql, plan).finally(() => drives.delete(promise));
  drives.add(promise);
  return promise;
}

async function driveRun(sql: Sql, plan: Plan): Promise<RunReport> {
  const { run } = plan;
  const started = performance.now();
  const results = new Map<string, Settled>();
  const planned = plan.stages.reduce((n, s) => n + s.length, 0);
  let stop: { status: RunStatus; message: string } | undefined;
  let owned = true;
  let failures = 0;
  const stopWith = (status: RunStatus, message: string) => (stop ??= { status, message });
  const heard = (answer: { cancel: boolean } | undefined) => {
    if (!answer) (owned = false), stopWith("halted", "another process took this run over");
    else if (answer.cancel) stopWith("cancelled", "cancelled on request");
  };
  active.set(run.id, stopWith);
  const heartbeat = setInterval(() => beat(sql, run.id, OWNER).then(heard, () => {}), HEARTBEAT_MS);
  try {
    const unstarted = await walkStages(plan.stages, {
      concurrency: plan.concurrency,
      retries: plan.limits.retries,
      backoff: (attempt) => backoffMs(plan.limits.lockTimeoutMs, attempt),
      attempt: plan.work,
      merge,
      stopped: () => {
        if (plan.signal.cancel) stopWith("cancelled", "cancelled on request");
        return stop !== undefined;
      },
      settle: async (schema, result, attempts) => {
        const settled = { ...result, attempts };
        results.set(schema, settled);
        if (settled.outcome === "failed" && ++failures > plan.maxFailures)
          stopWith("halted", `halted: ${failures} tenant${failures > 1 ? "s" : ""} failed, more than max_failures ${plan.maxFailures}`);
        // A change was recorded in its own transaction; a tenant left as it was (unchanged) needs no row.
        const recorded = !run.dry_run && (settled.outcome === "migrated" || settled.outcome === "reverted");
        if (!recorded && settled.outcome !== "unchanged") {
          // A failure's row keeps the files it did apply (already recorded); a dry run's lists what it would.
          const row = { ...settled, applied: run.dry_run ? settled.applied : [], error: settled.error ?? null };
          plan.signal.cancel ||= (await recordTenant(sql, run.id, row)).cancel;
        }
        plan.onProgress?.(settled, results.size, planned);
      },
    });
    const status = stop?.status ?? "done";
    const message = stop ? `${stop.message}; ${unstarted.length} of ${planned} tenants not started` : undefined;
    if (owned) await finishRun(sql, run.id, OWNER, status, message ?? null);
    return report(plan, results, status, message, performance.now() - started);
  } catch (error) {
    await finishRun(sql, run.id, OWNER, "failed", error instanceof Error ? error.message : String(error)).catch(() => {});
    throw error;
  } finally {
    clearInterval(heartbeat);
    active.delete(run.id);
  }
}

function report(plan: Plan, results: Map<string, Settled>, status: RunStatus, message: string | undefined, ms: number): RunReport {
  const planned = new Set(plan.stages.flat());
  const tenants = plan.scope.map(
    ({ schema, revision }): TenantReport =>
      results.get(schema) ?? { schema, from: revision, to: revision, applied: [], ms: 0, outcome: planned.has(schema) ? "pending" : "unchanged" },
  );
  const count = (outcome: TenantReport["outcome"]) => tenants.filter((t) => t.outcome === outcome).length;
  return {
    run: plan.run.id,
    kind: plan.run.kind,
    status,
    ...(message && { message }),
    head: plan.head,
    dry_run: plan.run.dry_run,
    total: tenants.length,
    migrated: count("migrated"),
    reverted: count("reverted"),
    unchanged: count("unchanged"),
    failed: count("failed"),
    blocked: count("blocked"),
    refused: count("refused"),
    remaining: count("pending"),
    ms: Math.round(ms),
    tenants,
  };
}
