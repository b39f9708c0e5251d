// How a fleet run walks its tenants, with no database in sight: the canary first, then waves,
// each stage finished before the next begins; a bounded number of tenants at a time; a tenant
// whose lock was not granted goes to the back of its stage and is tried again after a backoff
// (it holds no slot while it waits); and once `stopped()` says so, nothing new starts: the tenants
// in flight finish, the rest are returned as never started.

/** The canary (the first `n` tenants, or the ones named), then waves of `wave` tenants (default: the rest at once). */
export function planStages(schemas: readonly string[], options: { canary?: number | readonly string[]; wave?: number }): string[][] {
  const { canary, wave } = options;
  const named = Array.isArray(canary) ? new Set(canary) : undefined;
  const first = canary === undefined ? [] : named ? schemas.filter((s) => named.has(s)) : schemas.slice(0, canary as number);
  const inCanary = new Set(first);
  const rest = schemas.filter((s) => !inCanary.has(s));
  const size = wave && wave > 0 ? wave : Math.max(1, rest.length);
  const stages = first.length ? [first] : [];
  for (let i = 0; i < rest.length; i += size) stages.push(rest.slice(i, i + size));
  return stages;
}

/** Wait before the next try of a blocked tenant: doubling from the lock timeout (at most 1 s) with jitter, capped at 30 s. */
export function backoffMs(lockTimeoutMs: number, attempt: number): number {
  const base = Math.min(1000, lockTimeoutMs || 1000);
  return Math.round(Math.min(30_000, base * 2 ** (attempt - 1)) * (0.5 + Math.random() / 2));
}

export type Walk<R> = {
  concurrency: number;
  /** Further tries for a blocked tenant (MIGRATE_RETRIES). */
  retries: number;
  backoff: (attempt: number) => number;
  attempt: (schema: string) => Promise<{ result: R; blocked: boolean }>;
  /** One result for a tenant tried more than once. */
  merge: (earlier: R, later: R) => R;
  /** Called once per tenant with its final result and how many tries it took. */
  settle: (schema: string, result: R, attempts: number) => Promise<void>;
  stopped: () => boolean;
};

type Job<R> = { schema: string; attempts: number; due: number; result?: R };

/** Runs the stages; returns the tenants never started (the run stopped first). */
export async function walkStages<R>(stages: readonly string[][], w: Walk<R>): Promise<string[]> {
  const unstarted: string[] = [];
  for (const stage of stages) {
    if (w.stopped()) {
      unstarted.push(...stage);
      continue;
    }
    const ready: Job<R>[] = stage.map((schema) => ({ schema, attempts: 0, due: 0 }));
    const waiting: Job<R>[] = [];
    const worker = async () => {
      while (!w.stopped()) {
        let job = ready.shift();
        if (!job) {
          if (!waiting.length) return;
          waiting.sort((a, b) => a.due - b.due);
          const wait = waiting[0]!.due - Date.now();
          // Short naps, so a stop is noticed while a blocked tenant waits out its backoff.
          if (wait > 0) {
            await Bun.sleep(Math.min(wait, 200));
            continue;
          }
          job = waiting.shift()!;
        }
        const { result, blocked } = await w.attempt(job.schema);
        job.attempts++;
        job.result = job.result === undefined ? result : w.merge(job.result, result);
        if (blocked && job.attempts <= w.retries && !w.stopped()) {
          job.due = Date.now() + w.backoff(job.attempts);
          waiting.push(job);
        } else await w.settle(job.schema, job.result, job.attempts);
      }
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(w.concurrency, stage.length)) }, worker));
    // Stopped: tenants between tries are reported with their last result (blocked); the rest never started.
    for (const job of waiting) await w.settle(job.schema, job.result!, job.attempts);
    unstarted.push(...ready.map((j) => j.schema));
  }
  return unstarted;
}
