// `migrate lint [files…]`: squawk over the up sections of migration files, findings as file:line.
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { mapLimit } from "../migrator/fleet";
import { findSquawk, formatFinding, lintFile, NO_SQUAWK } from "../migrator/lint";
import { SQL_DIR } from "../migrator/source";
import { UsageError, command, json, output } from "./command";

/** Every migration file of both chains, in order. */
function allFiles(dir: string): string[] {
  return (["public", "tenant"] as const).flatMap((scope) =>
    readdirSync(join(dir, scope))
      .filter((f) => f.endsWith(".sql"))
      .sort()
      .map((f) => join(dir, scope, f)),
  );
}

/** A path as the author typed it, or relative to here when that is shorter. */
const shown = (path: string) => (relative(process.cwd(), path).startsWith("..") ? path : relative(process.cwd(), path));

export const lintCommand = command({
  name: "migrate lint",
  args: "[files…]",
  summary: "squawk over the up sections of migration files (default: all of sql/); exit 1 on an error-level finding",
  options: { json },
  database: false,
  async run(context) {
    const squawk = findSquawk();
    if (!squawk) {
      console.error(`error: ${NO_SQUAWK}`);
      return 1;
    }
    const files = context.positionals.length ? context.positionals : allFiles(context.config.sqlDir ?? SQL_DIR);
    const missing = files.find((f) => !existsSync(f));
    if (missing) throw new UsageError(`no such file: ${missing}`);
    const findings = (await mapLimit(files, 4, (f) => lintFile(squawk, shown(f), readFileSync(f, "utf8")))).flat();
    const errors = findings.filter((f) => f.level === "error").length;
    const version = Bun.spawnSync([squawk, "--version"]).stdout.toString().trim();
    const summary = `${version}: ${errors} error${errors === 1 ? "" : "s"}, ${findings.length - errors} warning${findings.length - errors === 1 ? "" : "s"} in ${files.length} file${files.length === 1 ? "" : "s"}`;
    output(context, { files: files.map(shown), findings }, [...findings.map(formatFinding), summary].join("\n"));
    return errors ? 1 : 0;
  },
});
