// Where the migration files come from: sql/ beside the sources, or embedded in the binary.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { COMPILED } from "../config";
import { checkSequence, parseMigration, type Migration, type Scope } from "./files";

/** `sql/` beside the sources, or embedded in the compiled binary (`bun run build` passes `--asset sql`). */
export const SQL_DIR = COMPILED ? join(import.meta.dir, "sql") : join(import.meta.dir, "..", "..", "sql");

export type Source = Readonly<Record<Scope, readonly Migration[]>>;

/** Every `*.sql` file of a folder, parsed and checked for gaps before any database work. */
export function loadMigrations(dir: string): Migration[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".sql"));
  return checkSequence(files.map((f) => parseMigration(f, readFileSync(join(dir, f), "utf8"))));
}

export function loadSource(dir: string = SQL_DIR): Source {
  return Object.freeze({ public: loadMigrations(join(dir, "public")), tenant: loadMigrations(join(dir, "tenant")) });
}
