// One pool per test process, on DATABASE_URL or the embedded default, like the service itself.
import { setDefaultTimeout } from "bun:test";
import { loadConfig, type Config } from "../../src/config";
import { connect, openDatabase, type Database } from "../../src/db/client";
import { migratePublic } from "../../src/migrator/migrator";
import { loadSource } from "../../src/migrator/source";

let opened: Promise<Database> | undefined;

export const testConfig: Config = Object.freeze({
  ...loadConfig(),
  adminToken: "test-admin-token-0123456789",
  logLevel: "silent",
  dbPoolMax: 4,
  // Off unless a test turns them on: the suite signs up and in far more often than any client would.
  rate: Object.freeze({}),
});

export const source = loadSource();

export function database(): Promise<Database> {
  return (opened ??= openDatabase(testConfig).then(async (db) => {
    await migratePublic(db.sql, source);
    return db;
  }));
}

/**
 * A transaction from a session of its own holding a lock on `table` (as a long report would),
 * until the returned release.
 */
export async function holdLock(table: string, mode: string): Promise<() => Promise<void>> {
  const outside = connect((await database()).url, testConfig, { max: 1 });
  const holder = await outside.reserve();
  await holder`begin`;
  await holder.unsafe(`lock table ${table} in ${mode} mode`);
  return async () => {
    await holder`rollback`;
    holder.release();
    await outside.close();
  };
}

export async function closeDatabase() {
  if (opened) await (await opened).close();
  opened = undefined;
}

/** A schema name no other test (or run) uses. */
export function uniqueSchema(prefix = "t"): string {
  return `${prefix}_${crypto.randomUUID().replaceAll("-", "").slice(0, 12)}`;
}

/**
 * Test timeouts for a shared 2-core machine: bun 1.4.5 does not apply bunfig's [test] timeout, and
 * setDefaultTimeout holds only in the file that calls it, so each file calls this while it loads
 * (testApp does; files without it call this at the top).
 */
export function slowMachine() {
  setDefaultTimeout(60_000);
}
