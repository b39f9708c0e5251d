// Pure migration logic: parsing, ordering, checksums and the applied-vs-local diff. No I/O here.
import { sha256 } from "../digest";
import { InvalidTarget, MigrationError } from "./errors";

export type Scope = "public" | "tenant";

export type Migration = Readonly<{
  version: number;
  name: string;
  file: string;
  up: string;
  down: string | undefined;
  transaction: boolean;
  checksum: string;
  /** `-- squawk-ignore-file` comments anywhere in the file (safety.ts reads them). */
  fileOptOuts: readonly OptOut[];
}>;

export type Applied = Readonly<{ version: number; name: string; checksum: string }>;

const FILE_NAME = /^(\d{4})_([a-z0-9_]+)\.sql$/;
const MARKER = /^--\s*migrate:(up|down|no-transaction)\s*$/i;

function isBlank(text: string): boolean {
  return text.split("\n").every((line) => /^\s*(--.*)?$/.test(line));
}

type Section = "preamble" | "up" | "down";

/** Each line of a file with the section it belongs to (undefined for a marker line), and the transaction mode. */
function sections(file: string, text: string) {
  const lines = text.replace(/\r\n?/g, "\n").split("\n");
  const seen = new Set<string>();
  let transaction = true;
  let current: Section = "preamble";
  const of = lines.map((line): Section | undefined => {
    const marker = MARKER.exec(line.trim())?.[1]?.toLowerCase();
    if (!marker) return current;
    if (marker === "no-transaction") transaction = false;
    else {
      if (seen.has(marker)) throw new MigrationError(`${file}: more than one "-- migrate:${marker}" section`, { file });
      seen.add(marker);
      current = marker as Section;
    }
    return undefined;
  });
  const section = (name: Section) => lines.filter((_, i) => of[i] === name).join("\n");
  return { lines, of, transaction, section, has: (name: Section) => seen.has(name) };
}

/**
 * What a linter should read: the preamble and the `up` section in place, every other line blank,
 * so line numbers stay the file's own. A no-transaction file says so in squawk's words.
 */
export function lintableUp(file: string, text: string): { text: string; transaction: boolean } {
  const { lines, of, transaction } = sections(file, text);
  const kept = lines.map((line, i) =>
    of[i] === "preamble" || of[i] === "up" ? line : /no-transaction/i.test(line) && !of[i] ? "-- squawk-disable-assume-in-transaction" : "",
  );
  return { text: kept.join("\n"), transaction };
}

/** The checksum covers what runs on `up` (and how), so a fixed `down` section is not drift. */
export function parseMigration(file: string, text: string): Migration {
  const match = FILE_NAME.exec(file);
  if (!match) throw new MigrationError(`${file}: file names are NNNN_lower_snake_name.sql`, { file });
  const parsed = sections(file, text);
  const { transaction } = parsed;
  if (!isBlank(parsed.section("preamble")))
    throw new MigrationError(`${file}: SQL before "-- migrate:up" belongs in a section`, { file });
  const up = parsed.section("up").trim();
  if (!parsed.has("up") || !up || isBlank(up)) throw new MigrationError(`${file}: the "-- migrate:up" section is missing or empty`, { file });
  const down = parsed.section("down").trim();
  return Object.freeze({
    version: Number(match[1]),
    name: match[2]!,
    file,
    up,
    down: down && !isBlank(down) ? down : undefined,
    transaction,
    checksum: sha256(transaction ? up : `${up}\n-- migrate:no-transaction`, "hex"),
    fileOptOuts: Object.freeze(optOuts(text).filter((o) => o.file)),
  });
}

export type OptOut = Readonly<{ file: boolean; rules: readonly string[]; reason: string }>;

const OPT_OUT = /^\s*--\s*squawk-ignore(-file)?(?:\s+(.*))?$/;

/**
 * squawk's opt-out comments: `-- squawk-ignore rule-a, rule-b -- why` (the next statement) or
 * `-- squawk-ignore-file rule -- why` (the whole file). The reason is what follows " -- ".
 */
export function optOuts(text: string): OptOut[] {
  return text.split("\n").flatMap((line) => {
    const match = OPT_OUT.exec(line);
    if (!match) return [];
    const [rules = "", ...why] = (match[2] ?? "").split(/\s--\s?/);
    return [{ file: Boolean(match[1]), rules: rules.split(/[\s,]+/).filter(Boolean), reason: why.join(" -- ").trim() }];
  });
}

/** Sorted by version; numbered 1, 2, 3… with no gap and no duplicate, or it throws before any database work. */
export function checkSequence(migrations: Migration[]): Migration[] {
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    const previous = sorted[i - 1];
    if (previous?.version === m.version)
      throw new MigrationError(`${previous.file} and ${m.file} share version ${m.version}`, { file: m.file });
    if (m.version !== i + 1)
      throw new MigrationError(`${m.file}: expected version ${String(i + 1).padStart(4, "0")} (no gaps)`, { file: m.file });
  });
  return sorted;
}

/**
 * What `up` would apply, after checking that the applied chain is an unchanged prefix of the local one:
 * an applied file that changed, is missing locally, or was skipped (append-only) stops everything.
 */
export function pending(local: readonly Migration[], applied: readonly Applied[], schema: string, to?: number): Migration[] {
  const head = local.length;
  if (to !== undefined && (to < 0 || to > head))
    throw new InvalidTarget(`no migration ${to} (the head is ${head})`, { schema });
  const sorted = [...applied].sort((a, b) => a.version - b.version);
  sorted.forEach((a, i) => {
    const m = local.find((l) => l.version === a.version);
    const label = `${String(a.version).padStart(4, "0")}_${a.name}.sql`;
    if (!m) throw new MigrationError(`${label} is applied to ${schema} but missing locally`, { file: label, schema });
    if (m.checksum !== a.checksum)
      throw new MigrationError(`${m.file} changed after it was applied to ${schema} (checksum differs)`, { file: m.file, schema });
    const expected = local[i]!;
    if (expected.version !== a.version)
      throw new MigrationError(`${expected.file} is not applied to ${schema} but the later ${m.file} is; the chain is append-only`, {
        file: expected.file,
        schema,
      });
  });
  return local.slice(sorted.length, to ?? head);
}

/** One checksum for the first `revision` files; the registry keeps it so drift shows without opening every schema. */
export function chainChecksum(migrations: readonly { checksum: string }[], revision = migrations.length): string {
  return revision === 0 ? "" : sha256(migrations.slice(0, revision).map((m) => m.checksum).join("\n"), "hex");
}

export function slug(description: string): string {
  const s = description.toLowerCase().normalize("NFKD").replace(/\p{M}/gu, "").replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 50);
  if (!s) throw new MigrationError(`"${description}" gives an empty file name; use letters or digits`);
  return s;
}

export function nextFile(existing: readonly Migration[], description: string, scope: Scope): { file: string; text: string } {
  const version = String(existing.length + 1).padStart(4, "0");
  const where =
    scope === "tenant"
      ? "-- Runs once in every tenant schema with search_path set to it: never name a schema here.\n"
      : "-- Runs in the public schema (the shared registry).\n";
  const safe =
    "-- Its tables hold data and serve requests while this runs: build an index with \"create index concurrently\"\n" +
    "-- in a file of its own marked \"-- migrate:no-transaction\"; `bun run migrate -- lint` checks the rest.\n";
  return {
    file: `${version}_${slug(description)}.sql`,
    text: `-- ${description}\n${where}${safe}-- Add "-- migrate:no-transaction" for statements that cannot run in a transaction.\n\n-- migrate:up\n\n\n-- migrate:down\n\n`,
  };
}

/** A statement without the comment lines before it. */
export function withoutComments(statement: string): string {
  return statement.replace(/^(\s*--[^\n]*(\n|$))+/, "").trim();
}

/**
 * Splits a script into statements for files that run outside a transaction (PostgreSQL runs a
 * multi-statement query as one implicit transaction). Knows quotes, dollar quotes and comments.
 */
export function splitStatements(script: string): string[] {
  const statements: string[] = [];
  let start = 0;
  let i = 0;
  const n = script.length;
  while (i < n) {
    const c = script[i]!;
    const next = script[i + 1];
    if (c === "-" && next === "-") {
      const end = script.indexOf("\n", i);
      i = end < 0 ? n : end + 1;
    } else if (c === "/" && next === "*") {
      let depth = 1;
      i += 2;
      while (i < n && depth > 0) {
        if (script.startsWith("/*", i)) (depth++, (i += 2));
        else if (script.startsWith("*/", i)) (depth--, (i += 2));
        else i++;
      }
    } else if (c === "'" || c === '"') {
      const escapes = c === "'" && /[eE]/.test(script[i - 1] ?? "") && !/\w/.test(script[i - 2] ?? "");
      i++;
      while (i < n) {
        if (escapes && script[i] === "\\") i += 2;
        else if (script[i] === c && script[i + 1] === c) i += 2;
        else if (script[i] === c) break;
        else i++;
      }
      i++;
    } else if (c === "$" && !/\w/.test(script[i - 1] ?? "")) {
      const tag = /^\$([A-Za-z_][A-Za-z0-9_]*)?\$/.exec(script.slice(i))?.[0];
      if (tag) {
        const end = script.indexOf(tag, i + tag.length);
        i = end < 0 ? n : end + tag.length;
      } else i++;
    } else if (c === ";") {
      statements.push(script.slice(start, i));
      i++;
      start = i;
    } else i++;
  }
  statements.push(script.slice(start));
  return statements.map((s) => s.trim()).filter((s) => !isBlank(s));
}
