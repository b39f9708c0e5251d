// The database side of the migrator: one schema at a time, one transaction per file, under a
// per-schema advisory lock so concurrent migrators never apply a file twice.
import type { Db, Sql } from "../db/client";
import { isSchemaName } from "../db/names";
import { MigrationError } from "./errors";
import { chainChecksum, pending, splitStatements, type Applied, type Migration } from "./files";
import type { Source } from "./source";

// Advisory locks are keyed (namespace, hashtext(schema)): a hash collision only serialises two schemas.
const LOCK_NAMESPACE = 1_718_447_360;

export type AppliedRow = Applied & { applied_at: string; duration: string };

/** Called inside each migration's transaction with the schema's new revision, e.g. to update the registry. */
export type OnApplied = (tx: Db, schema: string, revision: number, checksum: string) => Promise<unknown>;

export type UpResult = { schema: string; from: number; to: number; applied: string[]; ms: number };
export type Options = { dryRun?: boolean; onApplied?: OnApplied };

/**
 * The schema as a quoted identifier, after validation. Statements that name a schema are sent
 * unprepared (db.unsafe): a named prepared statement per tenant would stay in every pooled
 * backend, and PostgreSQL walks every cached plan on each catalog change, so DDL would slow down
 * as the fleet grows (measured: 192 ms instead of 21 ms per tenant created with 10,000 present).
 */
function quoted(schema: string): string {
  if (schema !== "public" && !isSchemaName(schema)) throw new MigrationError(`invalid schema name "${schema}"`, { schema });
  return `"${schema}"`;
}

export async function createMigrationsTable(db: Db, schema: string) {
  await db.unsafe(`
    create table if not exists ${quoted(schema)}.schema_migrations (
      version integer primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now(),
      duration interval not null
    )`);
}

/** The applied rows, or undefined when the schema has no migrations table yet. */
export async function readApplied(db: Db, schema: string): Promise<AppliedRow[] | undefined> {
  const name = quoted(schema);
  const [found] = await db`select to_regclass(${`${name}.schema_migrations`}) is not null as ok, to_regnamespace(${name}) is not null as schema_exists`;
  if (!found?.schema_exists) throw new MigrationError(`schema ${schema} does not exist`, { schema });
  if (!found.ok) return undefined;
  return db.unsafe<AppliedRow[]>(`select version, name, checksum, applied_at, duration::text as duration from ${name}.schema_migrations order by version`);
}

export async function lockSchema(db: Db, schema: string) {
  await db`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext(${schema}))`;
}

async function record(db: Db, schema: string, m: Migration, ms: number) {
  await db.unsafe(
    `insert into ${quoted(schema)}.schema_migrations (version, name, checksum, duration) values ($1, $2, $3, make_interval(secs => $4))`,
    [m.version, m.name, m.checksum, ms / 1000],
  );
}

function failure(m: Migration, schema: string, error: unknown): MigrationError {
  if (error instanceof MigrationError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MigrationError(`${m.file} failed on ${schema}: ${message}`, { file: m.file, schema }, { cause: error });
}

/** Runs a section with search_path on the schema (for this transaction only, when `local`). */
async function runSection(db: Db, schema: string, m: Migration, text: string, local = true) {
  try {
    await db`select set_config('search_path', ${quoted(schema)}, ${local})`;
    if (local) await db.unsafe(text).simple();
    // Outside a transaction a multi-statement query would still be one implicit transaction.
    else for (const statement of splitStatements(text)) await db.unsafe(statement).simple();
  } catch (error) {
    throw failure(m, schema, error);
  }
}

/** Runs one file's `up` inside the caller's transaction and records it. The schema must be locked or new. */
export async function applyInTransaction(tx: Db, schema: string, m: Migration) {
  const started = performance.now();
  await runSection(tx, schema, m, m.up);
  await record(tx, schema, m, performance.now() - started);
}

/**
 * One step in its own transaction under the schema's lock. `due` re-reads the applied rows under
 * the lock: when another migrator got there first, the step is skipped (false).
 */
function lockedStep(sql: Sql, schema: string, due: (applied: AppliedRow[]) => boolean, run: (tx: Db) => Promise<void>): Promise<boolean> {
  return sql.begin(async (tx) => {
    await lockSchema(tx, schema);
    if (!due((await readApplied(tx, schema)) ?? [])) return false;
    await run(tx);
    return true;
  });
}

/** A file that cannot run in a transaction: a session lock on a reserved connection, statement by statement. */
async function applyOutsideTransaction(sql: Sql, schema: string, local: readonly Migration[], m: Migration, onApplied?: OnApplied) {
  // A transaction pooler (PgBouncer transaction mode) gives no session to hold the lock and search_path.
  if (sql.options.prepare === false)
    throw new MigrationError(
      `${m.file} runs outside a transaction and needs a session: with DB_PREPARE=false (a transaction pooler) ` +
        "it is refused; run this migration against PostgreSQL directly (DATABASE_URL=<direct> … migrate up)",
      { file: m.file, schema },
    );
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${LOCK_NAMESPACE}, hashtext(${schema}))`;
    if (pending(local, (await readApplied(conn, schema)) ?? [], schema, m.version)[0] !== m) return false;
    const started = performance.now();
    try {
      await runSection(conn, schema, m, m.up, false);
    } finally {
      await conn`reset search_path`;
    }
    // A reserved connection has no sql.begin: the record and the hook commit together by hand.
    await conn`begin`;
    try {
      await record(conn, schema, m, performance.now() - started);
      await onApplied?.(conn, schema, m.version, chainChecksum(local, m.version));
      await conn`commit`;
    } catch (error) {
      await conn`rollback`;
      throw error;
    }
    return true;
  } finally {
    await conn`select pg_advisory_unlock(${LOCK_NAMESPACE}, hashtext(${schema}))`.catch(() => {});
    conn.release();
  }
}

function report(schema: string, from: number, started: number) {
  return (files: string[], to: number): UpResult => ({ schema, from, to, applied: files, ms: Math.round(performance.now() - started) });
}

/** Applies what is pending (up to `to`); a dry run reads and reports, and changes nothing. */
export async function up(sql: Sql, schema: string, local: readonly Migration[], options: Options & { to?: number } = {}): Promise<UpResult> {
  const started = performance.now();
  const applied = await readApplied(sql, schema);
  const from = applied?.length ?? 0;
  if (options.to !== undefined && options.to < from)
    throw new MigrationError(`${schema} is at ${from}, past ${options.to}: use down to go back`, { schema });
  const todo = pending(local, applied ?? [], schema, options.to);
  const result = report(schema, from, started);
  if (options.dryRun || todo.length === 0) return result(todo.map((m) => m.file), from + todo.length);
  if (!applied)
    await sql.begin(async (tx) => {
      await lockSchema(tx, schema);
      await createMigrationsTable(tx, schema);
    });
  const files: string[] = [];
  for (const m of todo) {
    const ran = m.transaction
      ? await lockedStep(
          sql,
          schema,
          (now) => pending(local, now, schema, m.version)[0] === m,
          async (tx) => {
            await applyInTransaction(tx, schema, m);
            await options.onApplied?.(tx, schema, m.version, chainChecksum(local, m.version));
          },
        )
      : await applyOutsideTransaction(sql, schema, local, m, options.onApplied);
    if (ran) files.push(m.file);
  }
  const [last] = await sql.unsafe(`select coalesce(max(version), 0)::int as revision from ${quoted(schema)}.schema_migrations`);
  return result(files, last!.revision);
}

/** Reverts the last `steps` applied files with their `-- migrate:down` sections, newest first. */
export async function down(sql: Sql, schema: string, local: readonly Migration[], options: Options & { steps?: number } = {}): Promise<UpResult> {
  const started = performance.now();
  const applied = (await readApplied(sql, schema)) ?? [];
  pending(local, applied, schema); // refuses on drift before reverting anything
  const from = applied.length;
  const todo = local.slice(Math.max(0, from - (options.steps ?? 1)), from).reverse();
  const missing = todo.find((m) => !m.down);
  if (missing) throw new MigrationError(`${missing.file} has no "-- migrate:down" section`, { file: missing.file, schema });
  const result = report(schema, from, started);
  if (options.dryRun) return result(todo.map((m) => m.file), from - todo.length);
  const files: string[] = [];
  for (const m of todo) {
    const ran = await lockedStep(
      sql,
      schema,
      (now) => now.at(-1)?.version === m.version,
      async (tx) => {
        await runSection(tx, schema, m, m.down!);
        await tx.unsafe(`delete from ${quoted(schema)}.schema_migrations where version = $1`, [m.version]);
        await options.onApplied?.(tx, schema, m.version - 1, chainChecksum(local, m.version - 1));
      },
    );
    if (ran) files.push(m.file);
  }
  return result(files, from - files.length);
}

export type Status = {
  schema: string;
  revision: number;
  head: number;
  pending: string[];
  applied: AppliedRow[];
  error?: string;
};

/** Reads the schema's own table; drift is reported in `error`, not thrown. */
export async function status(sql: Db, schema: string, local: readonly Migration[]): Promise<Status> {
  const applied = (await readApplied(sql, schema)) ?? [];
  const base = { schema, revision: applied.at(-1)?.version ?? 0, head: local.length, applied };
  try {
    return { ...base, pending: pending(local, applied, schema).map((m) => m.file) };
  } catch (error) {
    if (!(error instanceof MigrationError)) throw error;
    return { ...base, pending: [], error: error.message };
  }
}

export function migratePublic(sql: Sql, source: Source) {
  return up(sql, "public", source.public);
}
