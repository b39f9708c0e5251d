// Temporary migration chains for migrator tests: a folder of files under the OS temp dir.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "bun:test";
import { parseMigration, type Migration } from "../../src/migrator/files";
import { loadMigrations } from "../../src/migrator/source";

export function migrationFile(version: number, up: string, down?: string, transaction = true): Migration {
  const name = `${String(version).padStart(4, "0")}_step_${version}.sql`;
  return parseMigration(name, `${transaction ? "" : "-- migrate:no-transaction\n"}-- migrate:up\n${up}\n${down ? `-- migrate:down\n${down}\n` : ""}`);
}

/** A chain on disk (to exercise loading too), removed after the file's tests. */
export function chainOnDisk(files: Record<string, string>): { dir: string; load: () => Migration[] } {
  const dir = mkdtempSync(join(tmpdir(), "tenant-todo-migrations-"));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  return { dir, load: () => loadMigrations(dir) };
}
