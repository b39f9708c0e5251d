// The database seam, on Bun's built-in PostgreSQL client (chosen by measurement over postgres.js:
// faster, and it reconnects at once after a PostgreSQL restart; README › The driver). Three doors:
//   db.sql   a pool for operators' work and tenant lifecycle: migrations, DDL, the registry
//   db.run   a tenant's API work, on the lanes (lanes.ts), so one stuck tenant stalls nobody else:
//            shared lanes with short timeouts, and isolated ones for tenants that hit them
//   db.ping  readiness, on a connection of its own, answered within the connect timeout
import { SQL } from "bun";
import { COMPILED, ConfigError, type Config } from "../config";
import { startEmbedded } from "./embedded";
import { isTimeout, Lanes } from "./lanes";

/** Anything that runs a query: the pool, a lane, a transaction or a reserved connection. */
export type Sql = SQL;

type PoolConfig = Pick<
  Config,
  "dbPoolMax" | "dbPrepare" | "dbMaxLifetime" | "dbIdleTimeout" | "dbStatementTimeoutMs" | "dbLockTimeoutMs" | "dbAcquireTimeoutMs" | "dbConnectTimeoutMs"
> & {
  /** A Citus coordinator: its planner needs custom plans (see connect). */
  citus?: boolean;
};

export type Database = {
  url: string;
  embedded: boolean;
  /** The database is a Citus coordinator. */
  citus: boolean;
  /** The pool for operators' work (migrations, tenant lifecycle, DDL). */
  sql: Sql;
  /**
   * Runs one tenant's API work on a lane: `work(sql, key, ...args)`, where `key` is the tenant's
   * schema (or "public"). Work refused by a shared lane's short lock or statement timeout runs once
   * more, on an isolated lane, so it must be atomic: one statement, or one transaction.
   */
  run<A extends unknown[], T>(key: string, work: (sql: Sql, key: string, ...args: A) => Promise<T>, ...args: A): Promise<T>;
  /** The registry's revision, from a connection of its own; rejects within the connect timeout. */
  ping(): Promise<number>;
  close(): Promise<void>;
};

/** application_name of every connection of this service; lanes and the health connection add a suffix. */
export const APPLICATION = "tenant-todo";

/**
 * A pool. Session settings travel as start-up parameters, so they cost no round trip; without
 * prepared statements (a transaction pooler, which refuses unknown start-up parameters) they are
 * left to the role (README › PgBouncer).
 */
export function connect(url: string, config: PoolConfig, options: { max?: number; name?: string } = {}): Sql {
  return new SQL(url, {
    max: options.max ?? config.dbPoolMax,
    prepare: config.dbPrepare,
    idleTimeout: config.dbIdleTimeout,
    // Recycling connections bounds what each backend caches per tenant schema (catalog and plans).
    maxLifetime: config.dbMaxLifetime,
    connectionTimeout: config.dbConnectTimeoutMs / 1000,
    connection: {
      application_name: options.name ?? APPLICATION,
      TimeZone: "UTC",
      ...(config.dbPrepare && {
        statement_timeout: config.dbStatementTimeoutMs,
        lock_timeout: config.dbLockTimeoutMs,
        // An abandoned transaction must not hold a tenant's locks, nor a statement outlive its client
        // (a migrator killed mid-file keeps its session lock until its backend notices).
        idle_in_transaction_session_timeout: Math.max(config.dbStatementTimeoutMs, 10_000),
        client_connection_check_interval: 1000,
        // LIMIT $n otherwise keeps PostgreSQL re-planning every execution of a prepared list query.
        // Not on Citus: its planner routes each execution by its parameters, and refuses (or, for an
        // upsert calling now(), crashes on) a generic plan of a modifying statement.
        ...(!config.citus && { plan_cache_mode: "force_generic_plan" }),
      }),
    },
  });
}

/** How long a tenant whose query timed out on a shared lane works on the isolated lanes. */
const SUSPECT_MS = 10_000;

/**
 * Timeouts on the shared lanes, where everything pipelined behind a waiting query waits with it:
 * short, so that wait stays short. Work refused by them runs again on an isolated lane, with what
 * is left of the configured timeout, so the two waits together stay within it.
 */
const SHARED = { lockMs: 100, statementMs: 1000 };
/** A timeout split in two (0 is none): the shared lane's part, and the isolated lane's. */
function split(configured: number, cap: number): [shared: number, isolated: number] {
  if (configured === 0) return [cap, 0];
  return configured > cap ? [cap, configured - cap] : [configured, configured];
}

/** The pool, the lanes and the health connection on one URL. */
export function database(url: string, config: PoolConfig, embedded?: { stop(): Promise<void> }): Database {
  const sql = connect(url, config);
  const health = connect(url, config, { max: 1, name: `${APPLICATION}/health` });
  const lanes = (kind: string, count: number, laneConfig: PoolConfig) =>
    Array.from({ length: count }, (_, i) => {
      const name = `${APPLICATION}/${kind}${i}/${process.pid}`;
      return { name, open: () => connect(url, laneConfig, { max: 1, name }) };
    });
  // Ends a lane's session and waits (up to 5 s) until its backend is gone: what was queued there never runs.
  const terminate = (name: string) => sql`select pg_terminate_backend(pid, 5000) from pg_stat_activity where application_name = ${name}`.then(() => {});
  const [sharedLock, isolatedLock] = split(config.dbLockTimeoutMs, SHARED.lockMs);
  const [sharedStatement, isolatedStatement] = split(config.dbStatementTimeoutMs, SHARED.statementMs);
  const shared = new Lanes(lanes("lane", config.dbPoolMax, { ...config, dbLockTimeoutMs: sharedLock, dbStatementTimeoutMs: sharedStatement }), {
    isolated: false,
    acquireMs: config.dbAcquireTimeoutMs,
    terminate,
  });
  const isolated = new Lanes(
    lanes("isolated", Math.max(1, Math.floor(config.dbPoolMax / 2)), { ...config, dbLockTimeoutMs: isolatedLock, dbStatementTimeoutMs: isolatedStatement }),
    { isolated: true, acquireMs: config.dbAcquireTimeoutMs, terminate },
  );
  /** Tenants whose work timed out lately, and until when they stay on the isolated lanes. */
  const suspects = new Map<string, number>();
  const timedOut = (key: string, error: unknown) => {
    const timeout = isTimeout(error);
    if (timeout) suspects.set(key, performance.now() + SUSPECT_MS);
    return timeout;
  };
  async function run<A extends unknown[], T>(key: string, work: (sql: Sql, key: string, ...args: A) => Promise<T>, ...args: A): Promise<T> {
    const onLane = (lane: Sql) => work(lane, key, ...args);
    const until = suspects.get(key);
    if (until === undefined || until < performance.now()) {
      if (until !== undefined) suspects.delete(key);
      try {
        return await shared.run(key, onLane);
      } catch (error) {
        if (!timedOut(key, error)) throw error;
      }
    }
    try {
      return await isolated.run(key, onLane);
    } catch (error) {
      timedOut(key, error);
      throw error;
    }
  }
  let pinging: Promise<number> | undefined;
  return {
    url,
    embedded: Boolean(embedded),
    citus: Boolean(config.citus),
    sql,
    run,
    ping() {
      // One probe at a time: while one hangs (a half-open connection), callers share its deadline.
      pinging ??= withDeadline(
        health`select coalesce(max(version), 0)::int as revision from public.schema_migrations`.then((rows) => rows[0].revision as number),
        config.dbConnectTimeoutMs,
      ).finally(() => (pinging = undefined));
      return pinging;
    },
    async close() {
      await Promise.all([sql.close({ timeout: 5 }), health.close({ timeout: 1 }), shared.close(), isolated.close()]);
      await embedded?.stop();
    },
  };
}

/** Why a connection attempt failed, in words an operator can act on. */
export function cause(error: unknown): string {
  const { message, errno, code } = error as { message?: string; errno?: string; code?: string };
  return `${message ?? String(error)}${errno ? ` (SQLSTATE ${errno})` : code ? ` (${code})` : ""}`;
}

/**
 * Waits until the database answers, trying once a second for up to `seconds`, reporting each failed
 * attempt; then gives up with the last cause.
 */
async function waitUntilReachable(sql: Sql, seconds: number, onRetry: (attempt: number, cause: string) => void) {
  const deadline = Date.now() + seconds * 1000;
  for (let attempt = 1; ; attempt++) {
    try {
      await sql`select 1`;
      return;
    } catch (error) {
      if (Date.now() + 1000 > deadline) throw new Error(`the database did not answer${seconds ? ` within ${seconds} s` : ""}: ${cause(error)}`);
      onRetry(attempt, cause(error));
      await Bun.sleep(1000);
    }
  }
}

function withDeadline<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: Timer | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

/**
 * The configured PostgreSQL, or the embedded one when none is configured (from source only), once
 * it answers (waiting up to `waitS`, see waitUntilReachable), with settings for what it is (Citus).
 */
export async function openDatabase(
  config: PoolConfig & Pick<Config, "databaseUrl">,
  wait: { waitS: number; onRetry: (attempt: number, cause: string) => void } = { waitS: 0, onRetry: () => {} },
): Promise<Database> {
  if (!config.databaseUrl && COMPILED)
    throw new ConfigError(
      "DATABASE_URL is required: the embedded PostgreSQL is a from-source convenience (bun start); the binary and the container connect to a PostgreSQL you run",
    );
  const embedded = config.databaseUrl ? undefined : await startEmbedded();
  const url = config.databaseUrl ?? embedded!.url;
  const probe = connect(url, config, { max: 1, name: `${APPLICATION}/probe` });
  try {
    await waitUntilReachable(probe, wait.waitS, wait.onRetry);
    const [{ citus }] = await probe`select exists (select 1 from pg_extension where extname = 'citus') as citus`;
    return database(url, { ...config, citus }, embedded);
  } catch (error) {
    await embedded?.stop();
    throw error;
  } finally {
    await probe.close();
  }
}
