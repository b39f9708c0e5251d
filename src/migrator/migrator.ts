// The database side of the migrator: one schema at a time, one transaction per file, under a
// per-schema advisory lock so concurrent migrators never apply a file twice.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { COMPILED } from "../config";
import type { Db, Sql } from "../db/client";
import { isSchemaName } from "../db/names";
import { MigrationError } from "./errors";
import { chainChecksum, checkSequence, parseMigration, pending, splitStatements, type Applied, type Migration, type Scope } from "./files";

/** `sql/` beside the sources, or embedded in the compiled binary (`bun run build` passes `--asset sql`). */
export const SQL_DIR = COMPILED ? join(import.meta.dir, "sql") : join(import.meta.dir, "..", "..", "sql");

export type Source = Readonly<Record<Scope, readonly Migration[]>>;

export function loadMigrations(dir: string): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql"));
  return checkSequence(files.map((f) => parseMigration(f, readFileSync(join(dir, f), "utf8"))));
}

export function loadSource(dir: string = SQL_DIR): Source {
  return Object.freeze({ public: loadMigrations(join(dir, "public")), tenant: loadMigrations(join(dir, "tenant")) });
}

// Advisory locks are keyed (namespace, hashtext(schema)): a hash collision only serialises two schemas.
const LOCK_NAMESPACE = 1_718_447_360;

export type AppliedRow = Applied & { applied_at: string; duration: string };

/** Called inside each migration's transaction with the schema's new revision, e.g. to update the registry. */
export type OnApplied = (tx: Db, schema: string, revision: number, checksum: string) => Promise<unknown>;

export type UpResult = { schema: string; from: number; to: number; applied: string[]; ms: number };
export type Options = { dryRun?: boolean; onApplied?: OnApplied };

function checkSchema(schema: string) {
  if (schema !== "public" && !isSchemaName(schema)) throw new MigrationError(`invalid schema name "${schema}"`, { schema });
}

export async function createMigrationsTable(db: Db, schema: string) {
  await db`
    create table if not exists ${db(schema)}.schema_migrations (
      version integer primary key,
      name text not null,
      checksum text not null,
      applied_at timestamptz not null default now(),
      duration interval not null
    )`;
}

/** The applied rows, or undefined when the schema has no migrations table yet. */
export async function readApplied(db: Db, schema: string): Promise<AppliedRow[] | undefined> {
  checkSchema(schema);
  const [found] = await db`select to_regclass(${`"${schema}".schema_migrations`}) is not null as ok, to_regnamespace(${`"${schema}"`}) is not null as schema_exists`;
  if (!found?.schema_exists) throw new MigrationError(`schema ${schema} does not exist`, { schema });
  if (!found.ok) return undefined;
  return db<AppliedRow[]>`
    select version, name, checksum, applied_at, duration::text as duration
    from ${db(schema)}.schema_migrations order by version`;
}

export async function lockSchema(db: Db, schema: string) {
  await db`select pg_advisory_xact_lock(${LOCK_NAMESPACE}, hashtext(${schema}))`;
}

async function record(db: Db, schema: string, m: Migration, ms: number) {
  await db`
    insert into ${db(schema)}.schema_migrations (version, name, checksum, duration)
    values (${m.version}, ${m.name}, ${m.checksum}, make_interval(secs => ${ms / 1000}))`;
}

function failure(m: Migration, schema: string, error: unknown): MigrationError {
  if (error instanceof MigrationError) return error;
  const message = error instanceof Error ? error.message : String(error);
  return new MigrationError(`${m.file} failed on ${schema}: ${message}`, { file: m.file, schema }, { cause: error });
}

/** Runs one file's `up` inside the caller's transaction and records it. The schema must be locked or new. */
export async function applyInTransaction(tx: Db, schema: string, m: Migration) {
  const started = performance.now();
  try {
    await tx`select set_config('search_path', ${`"${schema}"`}, true)`;
    await tx.unsafe(m.up).simple();
    await record(tx, schema, m, performance.now() - started);
  } catch (error) {
    throw failure(m, schema, error);
  }
}

async function applyOne(sql: Sql, schema: string, local: readonly Migration[], m: Migration, onApplied?: OnApplied): Promise<boolean> {
  const revision = m.version;
  if (m.transaction)
    return sql.begin(async (tx) => {
      await lockSchema(tx, schema);
      const todo = pending(local, (await readApplied(tx, schema)) ?? [], schema, revision);
      if (todo[0]?.version !== revision) return false; // another migrator got here first
      await applyInTransaction(tx, schema, m);
      await onApplied?.(tx, schema, revision, chainChecksum(local, revision));
      return true;
    });
  // Outside a transaction: a session lock on a reserved connection, one statement at a time. That
  // needs a real session, which a transaction pooler (PgBouncer transaction mode) does not give.
  if (sql.options.prepare === false)
    throw new MigrationError(
      `${m.file} runs outside a transaction and needs a session: with DB_PREPARE=false (a transaction pooler) ` +
        "it is refused; run this migration against PostgreSQL directly (DATABASE_URL=<direct> … migrate up)",
      { file: m.file, schema },
    );
  const conn = await sql.reserve();
  try {
    await conn`select pg_advisory_lock(${LOCK_NAMESPACE}, hashtext(${schema}))`;
    const todo = pending(local, (await readApplied(conn, schema)) ?? [], schema, revision);
    if (todo[0]?.version !== revision) return false;
    const started = performance.now();
    try {
      await conn`select set_config('search_path', ${`"${schema}"`}, false)`;
      for (const statement of splitStatements(m.up)) await conn.unsafe(statement).simple();
    } catch (error) {
      throw failure(m, schema, error);
    } finally {
      await conn`reset search_path`;
    }
    // A reserved connection has no sql.begin: the record and the hook commit together by hand.
    await conn`begin`;
    try {
      await record(conn, schema, m, performance.now() - started);
      await onApplied?.(conn, schema, revision, chainChecksum(local, revision));
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

/** Applies what is pending (up to `to`); a dry run reads and reports, and changes nothing. */
export async function up(sql: Sql, schema: string, local: readonly Migration[], options: Options & { to?: number } = {}): Promise<UpResult> {
  const started = performance.now();
  let applied = await readApplied(sql, schema);
  const todo = pending(local, applied ?? [], schema, options.to);
  const from = applied?.length ?? 0;
  const result = (names: string[], to: number) => ({ schema, from, to, applied: names, ms: Math.round(performance.now() - started) });
  if (options.dryRun || todo.length === 0) return result(todo.map((m) => m.file), from + todo.length);
  if (!applied) {
    await sql.begin(async (tx) => {
      await lockSchema(tx, schema);
      await createMigrationsTable(tx, schema);
    });
    applied = [];
  }
  const done: string[] = [];
  for (const m of todo) if (await applyOne(sql, schema, local, m, options.onApplied)) done.push(m.file);
  const [last] = await sql`select coalesce(max(version), 0)::int as revision from ${sql(schema)}.schema_migrations`;
  return result(done, last!.revision);
}

/** Reverts the last `steps` applied files with their `-- migrate:down` sections, newest first. */
export async function down(sql: Sql, schema: string, local: readonly Migration[], options: Options & { steps?: number } = {}): Promise<UpResult> {
  const started = performance.now();
  const steps = options.steps ?? 1;
  const applied = (await readApplied(sql, schema)) ?? [];
  pending(local, applied, schema); // refuses on drift before reverting anything
  const from = applied.length;
  const todo = local.slice(Math.max(0, from - steps), from).reverse();
  const missing = todo.find((m) => !m.down);
  if (missing) throw new MigrationError(`${missing.file} has no "-- migrate:down" section`, { file: missing.file, schema });
  const result = (names: string[], to: number) => ({ schema, from, to, applied: names, ms: Math.round(performance.now() - started) });
  if (options.dryRun) return result(todo.map((m) => m.file), from - todo.length);
  const done: string[] = [];
  for (const m of todo) {
    const reverted = await sql.begin(async (tx) => {
      await lockSchema(tx, schema);
      const now = (await readApplied(tx, schema)) ?? [];
      if (now.at(-1)?.version !== m.version) return false;
      try {
        await tx`select set_config('search_path', ${`"${schema}"`}, true)`;
        await tx.unsafe(m.down!).simple();
        await tx`delete from ${tx(schema)}.schema_migrations where version = ${m.version}`;
      } catch (error) {
        throw failure(m, schema, error);
      }
      await options.onApplied?.(tx, schema, m.version - 1, chainChecksum(local, m.version - 1));
      return true;
    });
    if (reverted) done.push(m.file);
  }
  return result(done, from - done.length);
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
