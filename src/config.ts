// The only reader of the environment: parsed and validated once, then frozen.
import { BlockList, isIP } from "node:net";

/** Running as the `bun run build` binary (sources and sql/ embedded), not from a checkout. */
export const COMPILED = import.meta.dir.startsWith("/$bunfs");

const LOG_LEVELS = ["debug", "info", "warn", "error", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** A shared rate limit: at most `limit` hits per `window` seconds. */
export type RatePolicy = Readonly<{ limit: number; window: number }>;

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
  /** The public edge's limits, shared by every instance through the database; undefined: off (README › Limits). */
  rate: Readonly<{
    /** POST /auth/register per client address. */
    register?: RatePolicy;
    /** Failed sign-ins per email. */
    loginEmail?: RatePolicy;
    /** Sign-in attempts per client address. */
    loginIp?: RatePolicy;
    /** POST /users and email changes per client address: what can answer "email taken". */
    users?: RatePolicy;
    /** Requests per second per tenant, counted by each instance on its own. */
    tenant?: number;
  }>;
  registration: "open" | "closed";
  /** Most users and tasks a tenant may hold; undefined: no quota. */
  quotas: Readonly<{ users?: number; tasks?: number }>;
  /** Whose X-Forwarded-For to believe: that many proxies in front (a hop count), or proxies at these addresses/CIDRs; 0: nobody's. */
  trustProxy: number | readonly string[];
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

const OFF = ["off", "false", "no", "none"];
const UNITS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** "5/10m" → 5 per 600 s; "60/m", "100/3600"; `off` → undefined. */
function ratePolicy(env: Env, key: string, fallback: string | undefined): RatePolicy | undefined {
  const raw = (env[key]?.trim() || fallback)?.toLowerCase();
  if (!raw || OFF.includes(raw)) return undefined;
  const match = /^(\d+)\s*\/\s*(\d*)\s*([smhd]?)$/.exec(raw);
  const limit = Number(match?.[1]);
  const window = Number(match?.[2] || 1) * (UNITS[match?.[3] || "s"] ?? 1);
  if (!match || (!match[2] && !match[3]) || limit < 1 || limit > 1e9 || window < 1 || window > 7 * 86400)
    throw new ConfigError(`${key} must be <count>/<window> (e.g. 5/10m, 60/1m, 100/3600; window up to 7d) or off, got "${raw}"`);
  return Object.freeze({ limit, window });
}

/** A positive integer, or `off` (undefined). */
function intOrOff(env: Env, key: string, fallback: number | undefined, max: number): number | undefined {
  const raw = env[key]?.trim().toLowerCase();
  if (!raw) return fallback;
  if (OFF.includes(raw)) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) throw new ConfigError(`${key} must be an integer between 1 and ${max}, or off, got "${raw}"`);
  return value;
}

/** A hop count, or a list of proxy addresses/CIDRs; 0 for none. Anything that would let every client choose its own address is refused. */
function trustProxy(env: Env): number | readonly string[] {
  const raw = env.TRUST_PROXY?.trim().toLowerCase();
  if (!raw || OFF.includes(raw)) return 0;
  if (/^\d+$/.test(raw)) {
    const hops = Number(raw);
    if (hops > 16) throw new ConfigError(`TRUST_PROXY must be a hop count from 1 to 16, or proxy addresses/CIDRs, got "${raw}"`);
    return hops;
  }
  const list = raw.split(",").map((s) => s.trim()).filter(Boolean);
  const check = new BlockList();
  for (const entry of list) {
    const [address = "", prefix] = entry.split("/");
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 6 ? 128 : 32) : Number(prefix);
    try {
      // A /0 would trust every address as a proxy: every client could choose its own.
      if (!family || (prefix !== undefined && !/^\d+$/.test(prefix)) || bits === 0) throw new Error();
      check.addSubnet(address, bits, family === 6 ? "ipv6" : "ipv4");
    } catch {
      throw new ConfigError(`TRUST_PROXY must be a hop count (1, 2…) or comma-separated proxy addresses/CIDRs (10.0.0.0/8, ::1), got "${entry}"`);
    }
  }
  return Object.freeze(list);
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
    rate: Object.freeze({
      register: ratePolicy(env, "RATE_REGISTER", "5/10m"),
      loginEmail: ratePolicy(env, "RATE_LOGIN_EMAIL", "10/15m"),
      loginIp: ratePolicy(env, "RATE_LOGIN_IP", "60/1m"),
      users: ratePolicy(env, "RATE_USERS", "30/1m"),
      tenant: intOrOff(env, "TENANT_RATE", undefined, 1_000_000),
    }),
    registration: choice(env, "REGISTRATION", ["open", "closed"] as const, "open"),
    quotas: Object.freeze({
      users: intOrOff(env, "TENANT_MAX_USERS", 1000, 2 ** 31 - 1),
      tasks: intOrOff(env, "TENANT_MAX_TASKS", 100_000, 2 ** 31 - 1),
    }),
    trustProxy: trustProxy(env),
  });
}
