// The one lint rule `migrate up` enforces itself, so the binary needs no linter: a plain
// `create index` on a table the file did not create blocks every write to that table, in every
// tenant, while the index builds. squawk (`migrate lint`) is the full linter for authors and CI;
// this is the same rule under the same name, so one opt-out comment satisfies both.
import { UnsafeMigration } from "./errors";
import { optOuts, splitStatements, withoutComments, type Migration } from "./files";

export const INDEX_RULE = "require-concurrent-index-creation";

const IDENT = String.raw`(?:"(?:[^"]|"")+"|[A-Za-z_][\w$]*)`;
const NAME = String.raw`(${IDENT}(?:\s*\.\s*${IDENT})?)`;
const PLAIN_INDEX = new RegExp(String.raw`^create\s+(?:unique\s+)?index\s+(?!concurrently\b)(?:if\s+not\s+exists\s+)?(?:${IDENT}\s+)?on\s+(?:only\s+)?${NAME}`, "i");
const CREATED = new RegExp(String.raw`^create\s+(?:(?:global|local)\s+)?(?:(?:temp|temporary|unlogged)\s+)?(?:table|materialized\s+view)\s+(?:if\s+not\s+exists\s+)?${NAME}`, "i");

/** The relation's own name as PostgreSQL folds it (schema dropped: tenant SQL never names one). */
function relation(name: string): string {
  const last = name.split(/\s*\.\s*(?=(?:[^"]*"[^"]*")*[^"]*$)/).at(-1)!;
  return last.startsWith('"') ? last.slice(1, -1).replaceAll('""', '"') : last.toLowerCase();
}

/** An opt-out that names the rule and says why. */
const excuses = (comments: readonly { rules: readonly string[]; reason: string }[]) =>
  comments.some((o) => o.rules.includes(INDEX_RULE) && o.reason.length > 0);

export type Unsafe = { file: string; statement: string; table: string };

/** The `create index` statements (without `concurrently`) on tables this file did not create, not opted out. */
export function unsafeStatements(m: Migration): Unsafe[] {
  if (excuses(m.fileOptOuts)) return [];
  const statements = splitStatements(m.up);
  const created = new Set(statements.flatMap((s) => CREATED.exec(withoutComments(s))?.[1] ?? []).map(relation));
  return statements.flatMap((statement) => {
    const table = PLAIN_INDEX.exec(withoutComments(statement))?.[1];
    if (!table || created.has(relation(table)) || excuses(optOuts(statement))) return [];
    return [{ file: m.file, statement: withoutComments(statement).split("\n")[0]!.slice(0, 120), table: relation(table) }];
  });
}

/** Refuses, before anything runs, files with a plain `create index` on an existing table. */
export function refuseUnsafe(files: readonly Migration[], schema?: string) {
  const [first, ...more] = files.flatMap(unsafeStatements);
  if (!first) return;
  throw new UnsafeMigration(
    `${first.file}: "${first.statement}" blocks writes to ${first.table} while the index builds${more.length ? ` (and ${more.length} more)` : ""}. ` +
      `Use "create index concurrently" in a file marked -- migrate:no-transaction, or, when that is really fine, ` +
      `say why above it: -- squawk-ignore ${INDEX_RULE} -- <why>`,
    { file: first.file, schema },
  );
}
