// The only reader of the environment: parsed and validated once, then frozen.

/** Running as the `bun run build` binary (sources and sql/ embedded), not from a checkout. */
export const COMPILED = import.meta.dir.startsWith("/$bunfs");

const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export type Config = Readonly<{
  /** undefined: run the embedded PostgreSQL under `.data/` (from source only). */
  databaseUrl: string | undefined;
  port: number;
  host: string;
  /** undefined: the control API `/cc` answers 503. */
  adminToken: string | undefined;
  dbPoolMax: number;
  dbPrepare: boolean;
  /** Seconds a pooled connection lives; bounds each backend's per-tenant catalog and statement caches. */
  dbMaxLifetime: number;
  dbIdleTimeout: number;
  /** API queries: server-side statement_timeout and lock_timeout (ms). */
  dbStatementTimeoutMs: number;
  dbLockTimeoutMs: number;
  /** How long tenant work may wait for its turn on a connection before answering 503 (ms). */
  dbAcquireTimeoutMs: number;
  /** How long opening a connection may take (ms). */
  dbConnectTimeoutMs: number;
  /** At start-up, how long to wait for an unreachable or full database before giving up (s). */
  dbStartupWaitS: number;
  /** Migrations: how long each may wait for a lock and run (0: no limit), in ms, and how often a locked tenant is retried. */
  migrate: Readonly<{ lockTimeoutMs: number; statementTimeoutMs: number; retries: number }>;
  tokenTtlHours: number;
  /** Seconds an instance trusts its cached tenant and session lookups. */
  authCacheSeconds: number;
  corsOrigins: "*" | readonly string[];
  logLevel: LogLevel;
  bodyLimit: number;
  /** off: no /metrics; open: anyone; token: bearer ADMIN_TOKEN. */
  metrics: "off" | "open" | "token";
  workers: number;
  /** Set by the WORKERS supervisor in its children: they share the port (SO_REUSEPORT). */
  worker: boolean;
  /** Where sql/public and sql/tenant are read from; undefined: beside the sources (or inside the binary). */
  sqlDir: string | undefined;
}>;

export class ConfigError extends Error {
  override name = "ConfigError";
}

type Env = Record<string, string | undefined>;

function int(env: Env, key: string, fallback: number, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  const raw = env[key]?.trim();
  if (!raw) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max)
    throw new ConfigError(`${key} must be an integer between ${min} and ${max}, got "${raw}"`);
  return value;
}

function bool(env: Env, key: string, fallback: boolean): boolean {
  const raw = env[key]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (["1", "true", "yes", "on"].includes(raw)) return true;
  if (["0", "false", "no", "off"].includes(raw)) return false;
  throw new ConfigError(`${key} must be true or false, got "${raw}"`);
}

function choice<T extends string>(env: Env, key: string, allowed: readonly T[], fallback: T): T {
  const raw = env[key]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (!(allowed as readonly string[]).includes(raw))
    throw new ConfigError(`${key} must be one of ${allowed.join(", ")}, got "${raw}"`);
  return raw as T;
}

/** DATABASE_URL, else the seed's DB_* names, else undefined (embedded). */
function databaseUrl(env: Env): string | undefined {
  const url = env.DATABASE_URL?.trim();
  if (url) {
    if (!/^postgres(ql)?:\/\//.test(url)) throw new ConfigError("DATABASE_URL must start with postgres:// or postgresql://");
    return url;
  }
  if (!env.DB_HOST?.trim()) return undefined;
  const user = encodeURIComponent(env.DB_USERNAME ?? "postgres");
  const password = env.DB_PASSWORD ? `:${encodeURIComponent(env.DB_PASSWORD)}` : "";
  const port = int(env, "DB_PORT", 5432, 1, 65535);
  const database = encodeURIComponent(env.DB_DATABASE ?? "postgres");
  return `postgres://${user}${password}@${env.DB_HOST.trim()}:${port}/${database}`;
}

export function loadConfig(env: Env = process.env): Config {
  const adminToken = env.ADMIN_TOKEN?.trim() || undefined;
  if (adminToken && adminToken.length < 16) throw new ConfigError("ADMIN_TOKEN must be at least 16 characters");
  const origins = env.CORS_ORIGINS?.trim();
  return Object.freeze({
    databaseUrl: databaseUrl(env),
    port: int(env, "PORT", 3000, 0, 65535),
    host: env.HOST?.trim() || "0.0.0.0",
    adminToken,
    dbPoolMax: int(env, "DB_POOL_MAX", 4, 1, 1000),
    dbPrepare: bool(env, "DB_PREPARE", true),
    dbMaxLifetime: int(env, "DB_MAX_LIFETIME", 600, 1),
    dbIdleTimeout: int(env, "DB_IDLE_TIMEOUT", 60, 1),
    dbStatementTimeoutMs: int(env, "DB_STATEMENT_TIMEOUT_MS", 5000, 0),
    dbLockTimeoutMs: int(env, "DB_LOCK_TIMEOUT_MS", 2000, 0),
    dbAcquireTimeoutMs: int(env, "DB_ACQUIRE_TIMEOUT_MS", 2000, 1),
    dbConnectTimeoutMs: int(env, "DB_CONNECT_TIMEOUT_MS", 2000, 100),
    dbStartupWaitS: int(env, "DB_STARTUP_WAIT_S", 30, 0),
    migrate: Object.freeze({
      lockTimeoutMs: int(env, "MIGRATE_LOCK_TIMEOUT_MS", 2000, 0),
      statementTimeoutMs: int(env, "MIGRATE_STATEMENT_TIMEOUT_MS", 0, 0),
      retries: int(env, "MIGRATE_RETRIES", 3, 0, 100),
    }),
    tokenTtlHours: int(env, "TOKEN_TTL_HOURS", 24 * 7, 1, 24 * 366),
    authCacheSeconds: int(env, "AUTH_CACHE_SECONDS", 10, 0, 3600),
    corsOrigins: !origins || origins === "*" ? "*" : Object.freeze(origins.split(",").map((o) => o.trim()).filter(Boolean)),
    logLevel: choice(env, "LOG_LEVEL", LOG_LEVELS, "info"),
    bodyLimit: int(env, "BODY_LIMIT", 1024 * 1024, 1024),
    metrics: choice(env, "METRICS", ["off", "open", "token"] as const, "token"),
    workers: int(env, "WORKERS", 1, 1, 256),
    worker: bool(env, "TENANT_TODO_WORKER", false),
    sqlDir: env.SQL_DIR?.trim() || undefined,
  });
}
