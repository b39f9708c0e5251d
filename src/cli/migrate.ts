// `migrate up | down | status | new`: the same migrator functions as start-up and /cc.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Sql } from "../db/client";
import { fleetStatus, migrateAll, migrateTenant, revertTenant, type FleetReport, type TenantReport } from "../migrator/fleet";
import { nextFile, type Scope } from "../migrator/files";
import { down, status, up, type UpResult } from "../migrator/migrator";
import { SQL_DIR } from "../migrator/source";
import { checkSchemaName, getTenant } from "../services/tenants";
import { UsageError, count, output, type Args, type Context } from "./args";

function describe(r: UpResult, dryRun: boolean, verb = dryRun ? "would apply" : "applied"): string {
  if (r.applied.length === 0) return `${r.schema}: at revision ${r.to}, nothing to do`;
  return `${r.schema}: ${r.from} → ${r.to}, ${verb} ${r.applied.join(", ")} (${r.ms} ms)`;
}

function describeFleet(report: FleetReport): string {
  const lines = [
    `${report.dry_run ? "dry run: " : ""}${report.migrated} migrated, ${report.unchanged} unchanged, ${report.failed} failed ` +
      `of ${report.total} tenants in ${report.ms} ms (head ${report.head})`,
  ];
  for (const t of report.tenants) if (t.error) lines.push(`  ✗ ${t.schema}: ${t.error}`);
  if (report.dry_run) for (const t of report.tenants) if (t.applied.length) lines.push(`  ${describe(t, true)}`);
  return lines.join("\n");
}

/** One line that rewrites itself, on a terminal only. */
function progress(report: TenantReport, done: number, total: number) {
  if (!process.stderr.isTTY) return;
  process.stderr.write(`\r\x1b[K[${done}/${total}] ${report.error ? "✗" : "✓"} ${report.schema}${done === total ? "\n" : ""}`);
}

function target(args: Args): "all" | "public" | string {
  const chosen = [args.values.tenant, args.values.all && "all", args.values.public && "public"].filter(Boolean);
  if (chosen.length !== 1) throw new UsageError("choose one of --tenant <schema>, --all or --public");
  if (args.values.tenant) checkSchemaName(args.values.tenant);
  return chosen[0] as string;
}

async function migrateUp(sql: Sql, context: Context, dryRun: boolean): Promise<number> {
  const { args, source } = context;
  const where = target(args);
  const to = count(args.values.to, "to");
  if (where === "all") {
    if (to !== undefined) throw new UsageError("--to goes with one schema: --tenant <schema> or --public");
    const concurrency = count(args.values.concurrency, "concurrency");
    const report = await migrateAll(sql, source.tenant, { dryRun, concurrency, onProgress: args.values.json ? undefined : progress });
    output(context, report, describeFleet(report));
    return report.failed ? 1 : 0;
  }
  if (where !== "public") await getTenant(sql, where);
  const local = where === "public" ? source.public : source.tenant;
  const r = where === "public" ? await up(sql, where, local, { to, dryRun }) : await migrateTenant(sql, local, where, { to, dryRun });
  const sqlText = dryRun ? local.filter((m) => r.applied.includes(m.file)).map((m) => `-- ${m.file}\n${m.up}`) : [];
  output(context, r, [describe(r, dryRun), ...sqlText].join("\n\n"));
  return 0;
}

async function migrateDown(sql: Sql, context: Context, dryRun: boolean): Promise<number> {
  const { args, source } = context;
  const where = target(args);
  if (where === "all") throw new UsageError("down runs one schema at a time: --tenant <schema> or --public");
  const steps = count(args.values.steps, "steps", 1);
  if (where !== "public") await getTenant(sql, where);
  const r = where === "public" ? await down(sql, where, source.public, { steps, dryRun }) : await revertTenant(sql, source.tenant, where, { steps, dryRun });
  output(context, r, describe(r, dryRun, dryRun ? "would revert" : "reverted"));
  return 0;
}

async function migrateStatus(sql: Sql, context: Context): Promise<number> {
  const { args, source } = context;
  const where = args.values.tenant || args.values.public ? target(args) : "all";
  if (where === "all") {
    const tenants = await fleetStatus(sql, source.tenant);
    const line = (t: (typeof tenants)[number]) =>
      `  ${t.schema.padEnd(24)} ${String(t.revision).padStart(4)}/${t.head}  ${t.status.padEnd(9)} ` +
      (t.drift ? `drift: ${t.drift}` : t.pending.length ? `pending: ${t.pending.join(", ")}` : "at head");
    const summary = `head ${source.tenant.length}, ${tenants.length} tenants, ${tenants.filter((t) => t.pending_count).length} behind, ${tenants.filter((t) => t.drift).length} drifted`;
    output(context, { head: source.tenant.length, tenants }, [summary, ...tenants.map(line)].join("\n"));
    return tenants.some((t) => t.drift) ? 1 : 0;
  }
  if (where !== "public") await getTenant(sql, where);
  const s = await status(sql, where, where === "public" ? source.public : source.tenant);
  const text = [
    `${s.schema}: revision ${s.revision} of ${s.head}${s.error ? `\n  error: ${s.error}` : ""}`,
    ...s.applied.map((a) => `  ✓ ${String(a.version).padStart(4, "0")}_${a.name}.sql  ${a.applied_at}  ${a.duration}`),
    ...s.pending.map((p) => `  · ${p} (pending)`),
  ].join("\n");
  output(context, s, text);
  return s.error ? 1 : 0;
}

export function migrate(sql: Sql, context: Context): Promise<number> {
  const dryRun = Boolean(context.args.values["dry-run"]);
  const verb = context.args.positionals[0];
  if (verb === "up") return migrateUp(sql, context, dryRun);
  if (verb === "down") return migrateDown(sql, context, dryRun);
  if (verb === "status") return migrateStatus(sql, context);
  throw new UsageError(`unknown migrate verb "${verb ?? ""}"`);
}

/** `migrate new`: the next numbered file from the template; needs no database. */
export function newMigration({ args, config, source, print }: Context): number {
  const description = args.positionals[1];
  const scope = args.values.scope as Scope | undefined;
  if (!description || (scope !== "tenant" && scope !== "public")) throw new UsageError('migrate new "<description>" --scope tenant|public');
  const dir = join(config.sqlDir ?? SQL_DIR, scope);
  if (!existsSync(dir) || dir.startsWith("/$bunfs")) throw new UsageError("migrate new writes into sql/: run it from a source checkout");
  const { file, text } = nextFile(source[scope], description, scope);
  writeFileSync(join(dir, file), text, { flag: "wx" });
  print(`created sql/${scope}/${file}`);
  return 0;
}
