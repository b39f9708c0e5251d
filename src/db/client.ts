import postgres from "postgres";
import { COMPILED, ConfigError, type Config } from "../config";
import { startEmbedded } from "./embedded";

export type Sql = postgres.Sql;
/** Anything that runs a query: the pool, a transaction or a reserved connection. */
export type Db = postgres.ISql;

export type Database = { sql: Sql; url: string; embedded: boolean; close(): Promise<void> };

type PoolConfig = Pick<Config, "databaseUrl" | "dbPoolMax" | "dbPrepare" | "dbMaxLifetime" | "dbIdleTimeout">;

/**
 * timestamptz as PostgreSQL prints it in UTC ("2026-11-26 11:39:07.827123+00") → the ISO 8601 string
 * JSON.stringify would give a Date ("2026-11-26T11:39:07.827Z"), without building a Date per value.
 */
export function isoTimestamp(text: string): string {
  if (text.length >= 22 && text[10] === " " && text.endsWith("+00")) {
    const fraction = text.slice(20, -3);
    return `${text.slice(0, 10)}T${text.slice(11, 19)}.${`${fraction}000`.slice(0, 3)}Z`;
  }
  const date = new Date(text);
  return Number.isNaN(date.getTime()) ? text : date.toISOString();
}

const timestamptz = {
  to: 1184,
  from: [1184],
  serialize: (value: Date | string) => (value instanceof Date ? value.toISOString() : value),
  parse: isoTimestamp,
};

export function connect(url: string, config: Omit<PoolConfig, "databaseUrl">): Sql {
  const sql = postgres(url, {
    max: config.dbPoolMax,
    prepare: config.dbPrepare,
    idle_timeout: config.dbIdleTimeout,
    // Recycling connections bounds what each backend caches per tenant schema (catalog and plans).
    max_lifetime: config.dbMaxLifetime,
    connect_timeout: 10,
    onnotice: () => {},
    types: { timestamptz },
    connection: {
      application_name: "tenant-todo",
      TimeZone: "UTC",
      // LIMIT $n otherwise keeps PostgreSQL re-planning every execution of a prepared list query.
      // Not sent without prepared statements (PgBouncer transaction mode refuses unknown parameters).
      ...(config.dbPrepare && { plan_cache_mode: "force_generic_plan" }),
    },
  });
  return sql as unknown as Sql;
}

/** The configured PostgreSQL, or the embedded one when none is configured (from source only). */
export async function openDatabase(config: PoolConfig): Promise<Database> {
  if (!config.databaseUrl && COMPILED)
    throw new ConfigError(
      "DATABASE_URL is required: the embedded PostgreSQL is a from-source convenience (bun start); the binary and the container connect to a PostgreSQL you run",
    );
  const embedded = config.databaseUrl ? undefined : await startEmbedded();
  const url = config.databaseUrl ?? embedded!.url;
  const sql = connect(url, config);
  return {
    sql,
    url,
    embedded: Boolean(embedded),
    async close() {
      await sql.end({ timeout: 5 });
      await embedded?.stop();
    },
  };
}
