// The record of fleet migration runs (public.migration_runs, public.migration_run_tenants). The
// process driving a run is its `owner`; it proves it is alive with `heartbeat_at`, and every write
// it makes to the run's row is conditional on still owning it, so a run resumed elsewhere has one
// driver. Tenant rows record changes that happened, whoever drives the run.
import type { Sql } from "./client";

type RunKind = "up" | "revert";
export type RunStatus = "running" | "done" | "halted" | "failed" | "cancelled";
export type Outcome = "migrated" | "reverted" | "unchanged" | "failed" | "blocked" | "refused";

export type Run = {
  id: number;
  kind: RunKind;
  /** `interrupted`: stored as running, but its owner stopped beating (it died): resumable. */
  status: RunStatus | "interrupted";
  actor: string;
  target: number | null;
  reverts: number | null;
  dry_run: boolean;
  options: Record<string, unknown>;
  /** The plan's {total, planned}, merged with each outcome's count so far. */
  counts: Record<string, number>;
  message: string | null;
  events: Record<string, unknown>[];
  started_at: Date;
  finished_at: Date | null;
  owner: string | null;
  heartbeat_at: Date;
  cancel_requested_at: Date | null;
};

export type TenantRun = {
  schema: string;
  from: number;
  to: number;
  applied: string[];
  outcome: Outcome;
  error: string | null;
  attempts: number;
  ms: number;
  finished_at: Date;
};

/** A driver that has not beaten for this long is taken for dead (it beats every few seconds). */
const STALE_SECONDS = 30;

/** Each outcome's count among run `r`'s tenant rows, zeros included, so it replaces an earlier snapshot. */
const liveCounts = (sql: Sql) => sql`(
  select jsonb_build_object('migrated', count(*) filter (where t.outcome = 'migrated'), 'reverted', count(*) filter (where t.outcome = 'reverted'),
    'unchanged', count(*) filter (where t.outcome = 'unchanged'), 'failed', count(*) filter (where t.outcome = 'failed'),
    'blocked', count(*) filter (where t.outcome = 'blocked'), 'refused', count(*) filter (where t.outcome = 'refused'))
  from public.migration_run_tenants t where t.run_id = r.id)`;

const event = (sql: Sql, fields: Record<string, unknown>) => sql`jsonb_build_array(jsonb_build_object('at', now()) || ${fields}::jsonb)`;

/** The row as readers see it: outcome counts live from the tenant rows, a dead owner's run as interrupted. */
const READ = (sql: Sql) => sql`
  select r.id, r.kind, case when r.status = 'running' and r.heartbeat_at < now() - make_interval(secs => ${STALE_SECONDS}) then 'interrupted' else r.status end as status,
    r.actor, r.target, r.reverts, r.dry_run, r.options,
    r.counts || ${liveCounts(sql)} as counts,
    r.message, r.events, r.started_at, r.finished_at, r.owner, r.heartbeat_at, r.cancel_requested_at
  from public.migration_runs r`;

/** A new run owned by `owner`; one with nothing to do is recorded as done at once. */
export async function insertRun(
  sql: Sql,
  run: Pick<Run, "kind" | "actor" | "target" | "reverts" | "dry_run" | "options" | "counts"> & { owner: string; done?: boolean },
): Promise<Run> {
  const [row] = await sql<Run[]>`
    insert into public.migration_runs (kind, status, finished_at, actor, target, reverts, dry_run, options, counts, owner, events)
    values (${run.kind}, ${run.done ? "done" : "running"}, ${run.done ? sql`now()` : null}, ${run.actor}, ${run.target}, ${run.reverts},
      ${run.dry_run}, ${run.options}::jsonb, ${run.counts}::jsonb, ${run.done ? null : run.owner},
      ${event(sql, { actor: run.actor, event: "start" })} || ${run.done ? event(sql, { event: "done" }) : sql`'[]'::jsonb`})
    returning *`;
  const zeros = { migrated: 0, reverted: 0, unchanged: 0, failed: 0, blocked: 0, refused: 0 };
  return { ...row!, counts: { ...row!.counts, ...zeros } };
}

export async function runById(sql: Sql, id: number): Promise<Run | undefined> {
  const [row] = await sql<Run[]>`${READ(sql)} where r.id = ${id}`;
  return row;
}

/** Newest first; `before` pages on. */
export function listRuns(sql: Sql, limit: number, before?: number): Promise<Run[]> {
  return sql<Run[]>`${READ(sql)} ${before ? sql`where r.id < ${before}` : sql``} order by r.id desc limit ${limit}`;
}

export function runTenants(sql: Sql, id: number): Promise<TenantRun[]> {
  return sql<TenantRun[]>`
    select schema, from_revision as "from", to_revision as "to", applied, outcome, error, attempts, ms, finished_at
    from public.migration_run_tenants where run_id = ${id} order by finished_at, schema`;
}

/** Takes over a run that is not running (stopped or done) or whose owner died; undefined when it is neither. */
export async function claimRun(sql: Sql, id: number, owner: string, actor: string): Promise<Run | undefined> {
  const [row] = await sql`
    update public.migration_runs set status = 'running', owner = ${owner}, heartbeat_at = now(), finished_at = null,
      cancel_requested_at = null, message = null, events = events || ${event(sql, { actor, event: "resume" })}
    where id = ${id} and (status <> 'running'
      or (status = 'running' and heartbeat_at < now() - make_interval(secs => ${STALE_SECONDS})))
    returning id`;
  return row && runById(sql, id);
}

/** The owner's sign of life; undefined when it no longer owns the run, else whether a cancel was asked for. */
export async function beat(sql: Sql, id: number, owner: string): Promise<{ cancel: boolean } | undefined> {
  const [row] = await sql`
    update public.migration_runs set heartbeat_at = now() where id = ${id} and owner = ${owner} and status = 'running'
    returning cancel_requested_at is not null as cancel`;
  return row && { cancel: row.cancel };
}

export async function setPlan(sql: Sql, id: number, owner: string, counts: { total: number; planned: number }) {
  await sql`update public.migration_runs set counts = counts || ${counts}::jsonb where id = ${id} and owner = ${owner}`;
}

/**
 * Records what the run did to one tenant: inside the migration's own transaction when it changed
 * something (so the record and the change commit together, and a revert finds every file), else
 * when the tenant settles. Merged with an earlier row of the same run: the first `from`, every
 * file applied; outcome, error, attempts and ms are the latest pass's. Answers whether a cancel
 * was asked for, so a driver hears it at the next tenant without a query of its own.
 */
export async function recordTenant(sql: Sql, id: number, t: Omit<TenantRun, "finished_at">): Promise<{ cancel: boolean }> {
  const [row] = await sql`
    insert into public.migration_run_tenants (run_id, schema, from_revision, to_revision, applied, outcome, error, attempts, ms)
    values (${id}, ${t.schema}, ${t.from}, ${t.to}, ${sql.array(t.applied, "TEXT")}::text[], ${t.outcome}, ${t.error}, ${t.attempts}, ${t.ms})
    on conflict (run_id, schema) do update set to_revision = excluded.to_revision,
      applied = migration_run_tenants.applied || excluded.applied, outcome = excluded.outcome, error = excluded.error,
      attempts = excluded.attempts, ms = excluded.ms, finished_at = now()
    returning (select cancel_requested_at is not null from public.migration_runs where id = ${id}) as cancel`;
  return { cancel: Boolean(row?.cancel) };
}

/** The owner stops its run: final status, why, and each outcome's count written into `counts`. */
export async function finishRun(sql: Sql, id: number, owner: string, status: RunStatus, message: string | null) {
  await sql`
    update public.migration_runs r set status = ${status}, message = ${message}, finished_at = now(), owner = null,
      counts = r.counts || ${liveCounts(sql)},
      events = r.events || ${event(sql, { event: status, message })}
    where id = ${id} and owner = ${owner} and status = 'running'`;
}

/**
 * Asks a live run to stop after the tenants in flight (its owner sees the request), or cancels a
 * stopped or orphaned one at once. Undefined when the run is finished or missing.
 */
export async function requestCancel(sql: Sql, id: number, actor: string): Promise<Run | undefined> {
  const live = sql`(status = 'running' and heartbeat_at >= now() - make_interval(secs => ${STALE_SECONDS}))`;
  const [row] = await sql`
    update public.migration_runs set cancel_requested_at = coalesce(cancel_requested_at, now()),
      status = case when ${live} then status else 'cancelled' end,
      finished_at = case when ${live} then finished_at else now() end,
      message = case when ${live} then message else ${`cancelled by ${actor}`} end,
      owner = case when ${live} then owner end,
      events = events || ${event(sql, { actor, event: "cancel" })}
    where id = ${id} and status in ('running', 'halted', 'failed')
    returning id`;
  return row && runById(sql, id);
}

/** Tenants this run is finished with (retrying a failed, blocked or refused one is what resuming is for). */
export async function settledSchemas(sql: Sql, id: number): Promise<Set<string>> {
  const rows = await sql<{ schema: string }[]>`
    select schema from public.migration_run_tenants where run_id = ${id} and outcome in ('migrated', 'reverted', 'unchanged')`;
  return new Set(rows.map((r) => r.schema));
}

/** Where the run changed something: the tenants and revisions a revert of it must undo, newest first. */
export function appliedBy(sql: Sql, id: number): Promise<Pick<TenantRun, "schema" | "from" | "to" | "applied">[]> {
  return sql`
    select schema, from_revision as "from", to_revision as "to", applied from public.migration_run_tenants
    where run_id = ${id} and cardinality(applied) > 0 order by finished_at desc, schema desc`;
}
