// `migrate up | down | status | new | lint`: the same migrator and operations as start-up and /cc.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fleetStatus } from "../migrator/fleet";
import { nextFile, type Scope } from "../migrator/files";
import { schemaStatus, type MigrationResult } from "../migrator/migrator";
import { SQL_DIR } from "../migrator/source";
import { getTenant } from "../services/tenants";
import { UsageError, command, count, json, list, output, type Context } from "./command";
import { lintCommand } from "./lint";
import { follow, runSettings, staging } from "./runs";

function describe(r: MigrationResult, dryRun: boolean, verb = dryRun ? "would apply" : "applied"): string {
  if (r.applied.length === 0) return `${r.schema}: at revision ${r.to}, nothing to do`;
  return `${r.schema}: ${r.from} → ${r.to}, ${verb} ${r.applied.join(", ")} (${r.ms} ms)`;
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
  summary: "apply pending migrations to one tenant, every tenant (a recorded run), or the registry",
  options: {
    ...where,
    to: { type: "string", value: "N", help: "stop at revision N (one schema)" },
    "dry-run": { type: "boolean", help: "report what would run; change nothing" },
    schemas: { type: "string", value: "a,b,…", help: "--all: only these tenants" },
    canary: { type: "string", value: "N|a,b,…", help: "--all: these tenants (or the first N behind) first, on their own" },
    wave: { type: "string", value: "N", help: "--all: then N tenants per wave, each wave finished before the next" },
    ...staging,
    json,
  },
  async run(context) {
    const { values, ops, source, config } = context;
    const dryRun = Boolean(values["dry-run"]);
    const chosen = target(values);
    const to = count(values.to, "to");
    if (chosen === "all") {
      if (to !== undefined) throw new UsageError("--to goes with one schema: --tenant <schema> or --public");
      const canary = values.canary === undefined ? undefined : /^\d+$/.test(values.canary) ? count(values.canary, "canary") : list(values.canary);
      const schemas = values.schemas === undefined ? undefined : list(values.schemas);
      const started = await ops.startRun(source.tenant, { ...runSettings(values, config), dryRun, schemas, canary });
      return follow(context, started);
    }
    if (values.schemas !== undefined || values.canary !== undefined || values.wave !== undefined || values["max-failures"] !== undefined)
      throw new UsageError("--schemas, --canary, --wave and --max-failures go with --all");
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
  summary: "revert the newest migrations of one tenant or the registry, or exactly what a run applied",
  options: {
    tenant: where.tenant,
    public: where.public,
    run: { type: "string", value: "<id>", help: "revert that run: its files, on the tenants where it applied them (a recorded run)" },
    steps: { type: "string", value: "N", help: "how many files (default 1)" },
    "dry-run": { type: "boolean", help: "report what would be reverted; change nothing" },
    wave: { type: "string", value: "N", help: "--run: N tenants per wave" },
    ...staging,
    json,
  },
  async run(context) {
    const { values, ops, source, config } = context;
    const dryRun = Boolean(values["dry-run"]);
    if (values.run !== undefined) {
      if (values.tenant || values.public || values.steps) throw new UsageError("--run reverts a whole run: no --tenant, --public or --steps");
      const started = await ops.revertRun(source.tenant, count(values.run, "run")!, { ...runSettings(values, config), dryRun });
      return follow(context, started);
    }
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

export const migrateCommands = [upCommand, downCommand, statusCommand, newCommand, lintCommand];
