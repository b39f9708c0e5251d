// `migrate lint`: squawk (squawk-cli, pinned in devDependencies) over the `up` sections of migration
// files, as the migrator runs them (one transaction per file unless marked otherwise), with the
// rules chosen for this project, and line numbers that are the file's own. squawk is an authors'
// and CI tool: the compiled binary does not carry it (25 MB per platform); `migrate up` enforces
// the rule that matters most itself (safety.ts).
import { lintableUp, optOuts } from "./files";

/** Off: the migrator sets lock_timeout and statement_timeout itself; int4 ids are on purpose (the API validates int32). */
export const EXCLUDED = ["require-lock-timeout", "require-statement-timeout", "prefer-bigint-over-int"];
/** Advice: printed, not failing. Every other rule (blocking locks, table rewrites, breaking clients) is an error. */
const WARNINGS = new Set([
  "prefer-robust-stmts",
  "prefer-text-field",
  "prefer-timestamp-tz",
  "prefer-timestamptz",
  "prefer-identity",
  "prefer-bigint-over-smallint",
  "ban-char-field",
  "require-enum-value-ordering",
]);
/** The PostgreSQL the rules assume (the oldest this project runs on). */
const PG_VERSION = "15";

export type Finding = { file: string; line: number; column: number; level: "error" | "warning"; rule: string; message: string; help?: string };

/** squawk from this checkout's node_modules, else from PATH; undefined when neither has it (the compiled binary). */
export function findSquawk(): string | undefined {
  try {
    return Bun.resolveSync(`@squawk-cli/${process.platform}-${process.arch}/bin/squawk`, import.meta.dir);
  } catch {
    return Bun.which("squawk") ?? undefined;
  }
}

export const NO_SQUAWK =
  "migrate lint runs squawk, which the compiled binary does not carry: run it from a source checkout " +
  "(bun install && bun run migrate -- lint), or put squawk-cli 2.66 on PATH. " +
  "migrate up itself refuses a plain create index on a table with data, without squawk.";

/** Opt-outs must say why: `-- squawk-ignore rule -- because …` (migrate up insists too). */
function unexplained(file: string, text: string): Finding[] {
  return text.split("\n").flatMap((line, i) =>
    optOuts(line)
      .filter((o) => !o.reason)
      .map(
        (o): Finding => ({
          file,
          line: i + 1,
          column: 1,
          level: "error",
          rule: "opt-out-without-reason",
          message: `"squawk-ignore${o.file ? "-file" : ""} ${o.rules.join(", ")}" says what, not why`,
          help: "add the reason after the rule names: -- squawk-ignore rule -- why it is safe here",
        }),
      ),
  );
}

type SquawkJson = { line: number; column: number; rule_name: string; message: string; help: string | null };

/** One file's findings: squawk's (its 0-based positions made 1-based) and unexplained opt-outs. */
export async function lintFile(squawk: string, file: string, text: string): Promise<Finding[]> {
  const { text: up } = lintableUp(file, text);
  const proc = Bun.spawn(
    [squawk, "--reporter", "json", `--pg-version=${PG_VERSION}`, "--assume-in-transaction", `--exclude=${EXCLUDED.join(",")}`, "--stdin-filepath", file],
    { stdin: new Blob([up]), stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  let found: SquawkJson[];
  try {
    found = out.trim() ? JSON.parse(out) : [];
  } catch {
    throw new Error(`squawk failed on ${file} (exit ${code}): ${(err || out).trim().slice(0, 500)}`);
  }
  if (code > 1) throw new Error(`squawk failed on ${file} (exit ${code}): ${err.trim().slice(0, 500)}`);
  const findings = found.map(
    (f): Finding => ({
      file,
      line: f.line + 1,
      column: f.column + 1,
      level: WARNINGS.has(f.rule_name) ? "warning" : "error",
      rule: f.rule_name,
      message: f.message,
      ...(f.help && { help: f.help }),
    }),
  );
  return [...findings, ...unexplained(file, text)].sort((a, b) => a.line - b.line || a.column - b.column);
}

export function formatFinding(f: Finding): string {
  return `${f.file}:${f.line}:${f.column}: ${f.level} ${f.rule}: ${f.message}${f.help ? ` (${f.help})` : ""}`;
}
