// `migrate up | down | status | new`: the same migrator and operations as start-up and /cc.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fleetStatus, type FleetReport, type TenantReport } from "../migrator/fleet";
import { nextFile, type Scope } from "../migrator/files";
import { schemaStatus, type MigrationResult } from "../migrator/migrator";
import { SQL_DIR } from "../migrator/source";
import { getTenant } from "../services/tenants";
import { UsageError, command, count, json, output, type Context } from "./command";

function describe(r: MigrationResult, dryRun: boolean, verb = dryRun ? "would apply" : "applied"): string {
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

const where = {
  tenant: { type: "string", value: "<schema>", help: "one tenant" },
  all: { type: "boolean", help: "every tenant" },
  public: { type: "boolean", help: "the shared registry" },
} as const;

/** Exactly one of --tenant, --all, --public (--all only where allowed). */
function target(values: { tenant?: string; all?: boolean; public?: boolean }, all = true): "all" | "public" | string {
  const chosen = [values.tenant, values.all && "all", values.public && "public"].filter(Boolean);
  if (chosen.length !== 1 || (!all && values.all)) throw new UsageError(`choose one of --tenant <schema>${all ? ", --all" : ""} or --public`);
  return chosen[0] as string;
}

const upCommand = command({
  name: "migrate up",
  summary: "apply pending migrations to one tenant, every tenant, or the registry",
  options: {
    ...where,
    to: { type: "string", value: "N", help: "stop at revision N (one schema)" },
    "dry-run": { type: "boolean", help: "report what would run; change nothing" },
    concurrency: { type: "string", value: "N", help: "tenants at once (--all)" },
    json,
  },
  async run(context) {
    const { values, ops, source, config } = context;
    const dryRun = Boolean(values["dry-run"]);
    const chosen = target(values);
    const to = count(values.to, "to");
    if (chosen === "all") {
      if (to !== undefined) throw new UsageError("--to goes with one schema: --tenant <schema> or --public");
      const concurrency = count(values.concurrency, "concurrency");
      const report = await ops.migrateFleet(source.tenant, { dryRun, concurrency, limits: config.migrate, onProgress: values.json ? undefined : progress });
      output(context, report, describeFleet(report));
      return report.failed ? 1 : 0;
    }
    const local = chosen === "public" ? source.public : source.tenant;
    const options = { to, dryRun, limits: config.migrate };
    const r = chosen === "public" ? await ops.migrateRegistry(local, options) : await ops.migrateTenant(local, chosen, options);
    const sqlText = dryRun ? local.filter((m) => r.applied.includes(m.file)).map((m) => `-- ${m.file}\n${m.up}`) : [];
    output(context, r, [describe(r, dryRun), ...sqlText].join("\n\n"));
    return 0;
  },
});

const downCommand = command({
  name: "migrate down",
  summary: "revert the newest migrations of one tenant or the registry",
  options: {
    tenant: where.tenant,
    public: where.public,
    steps: { type: "string", value: "N", help: "how many files (default 1)" },
    "dry-run": { type: "boolean", help: "report what would be reverted; change nothing" },
    json,
  },
  async run(context) {
    const { values, ops, source, config } = context;
    const dryRun = Boolean(values["dry-run"]);
    const chosen = target(values, false);
    const options = { steps: count(values.steps, "steps", 1), dryRun, limits: config.migrate };
    const r = chosen === "public" ? await ops.revertRegistry(source.public, options) : await ops.revertTenant(source.tenant, chosen, options);
    output(context, r, describe(r, dryRun, dryRun ? "would revert" : "reverted"));
    return 0;
  },
});

const statusCommand = command({
  name: "migrate status",
  summary: "revisions, pending files and drift (the fleet from the registry, the default; one schema from itself)",
  options: { ...where, json },
  async run(context) {
    const { values, db, source } = context;
    if (target({ ...values, all: values.all || (!values.tenant && !values.public) }) === "all") {
      const tenants = await fleetStatus(db.sql, source.tenant);
      const line = (t: (typeof tenants)[number]) =>
        `  ${t.schema.padEnd(24)} ${String(t.revision).padStart(4)}/${t.head}  ${t.status.padEnd(9)} ` +
        (t.drift ? `drift: ${t.drift}` : t.pending.length ? `pending: ${t.pending.join(", ")}` : "at head");
      const summary = `head ${source.tenant.length}, ${tenants.length} tenants, ${tenants.filter((t) => t.pending_count).length} behind, ${tenants.filter((t) => t.drift).length} drifted`;
      output(context, { head: source.tenant.length, tenants }, [summary, ...tenants.map(line)].join("\n"));
      return tenants.some((t) => t.drift) ? 1 : 0;
    }
    const chosen = target(values);
    if (chosen !== "public") await getTenant(db.sql, chosen);
    const s = await schemaStatus(db.sql, chosen, chosen === "public" ? source.public : source.tenant);
    const text = [
      `${s.schema}: revision ${s.revision} of ${s.head}${s.error ? `\n  error: ${s.error}` : ""}`,
      ...s.applied.map((a) => `  ✓ ${String(a.version).padStart(4, "0")}_${a.name}.sql  ${a.applied_at.toISOString()}  ${a.duration}`),
      ...(s.interrupted ? [`  ! ${s.interrupted.file}: interrupted after ${s.interrupted.done} of ${s.interrupted.of} statements (the next up resumes it)`] : []),
      ...s.pending.map((p) => `  · ${p} (pending)`),
    ].join("\n");
    output(context, s, text);
    return s.error ? 1 : 0;
  },
});

const newCommand = command({
  name: "migrate new",
  args: '"<description>"',
  summary: "write the next numbered file from the template (needs no database)",
  options: { scope: { type: "string", value: "tenant|public", help: "which chain" } },
  database: false,
  run({ values, positionals, config, source, print }: Context) {
    const [description] = positionals;
    const scope = values.scope as Scope | undefined;
    if (!description || (scope !== "tenant" && scope !== "public")) throw new UsageError('migrate new "<description>" --scope tenant|public');
    const dir = join(config.sqlDir ?? SQL_DIR, scope);
    if (!existsSync(dir) || dir.startsWith("/$bunfs")) throw new UsageError("migrate new writes into sql/: run it from a source checkout");
    const { file, text } = nextFile(source[scope], description, scope);
    writeFileSync(join(dir, file), text, { flag: "wx" });
    print(`created sql/${scope}/${file}`);
    return 0;
  },
});

export const migrateCommands = [upCommand, downCommand, statusCommand, newCommand];
