import postgres from "postgres";
import type { Config } from "../config";
import { startEmbedded } from "./embedded";

export type Sql = postgres.Sql;
/** Anything that runs a query: the pool, a transaction or a reserved connection. */
export type Db = postgres.ISql;

export type Database = { sql: Sql; url: string; embedded: boolean; close(): Promise<void> };

type PoolConfig = Pick<Config, "databaseUrl" | "dbPoolMax" | "dbPrepare" | "dbMaxLifetime" | "dbIdleTimeout">;

export function connect(url: string, config: Omit<PoolConfig, "databaseUrl">): Sql {
  return postgres(url, {
    max: config.dbPoolMax,
    prepare: config.dbPrepare,
    idle_timeout: config.dbIdleTimeout,
    // Recycling connections bounds what each backend caches per tenant schema (catalog and plans).
    max_lifetime: config.dbMaxLifetime,
    connect_timeout: 10,
    onnotice: () => {},
    connection: { application_name: "tenant-todo" },
  });
}

/** The configured PostgreSQL, or the embedded one when none is configured. */
export async function openDatabase(config: PoolConfig): Promise<Database> {
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
