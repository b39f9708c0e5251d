// The command line: `migrate` and `tenant` verbs (and `seed`), calling the same functions as /cc.
// Errors are formatted here, at the edge, and nowhere else.
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { Config } from "./config";
import { openDatabase, type Sql } from "./db/client";
import { listTenants, setTenantStatus } from "./db/tenants";
import { AppError, NotFound } from "./errors";
import { MigrationError } from "./migrator/errors";
import { migrateAll, migrateTenant, registryStatus, revertTenant, type FleetReport, type TenantReport } from "./migrator/fleet";
import { nextFile, type Scope } from "./migrator/files";
import { SQL_DIR, down, loadSource, migratePublic, status, up, type Source, type UpResult } from "./migrator/migrator";
import { seed } from "./services/seed";
import { checkSchemaName, createTenant, dropTenant, getTenant } from "./services/tenants";

export const USAGE = `tenant-todo — multi-tenant TODO API

  tenant-todo                       serve the API (PORT, HOST, DATABASE_URL, …; see README)
  tenant-todo migrate up     --tenant <s> | --all | --public  [--to N] [--dry-run] [--concurrency N] [--json]
  tenant-todo migrate down   --tenant <s> | --public [--steps N] [--dry-run] [--json]
  tenant-todo migrate status [--tenant <s> | --all | --public] [--json]
  tenant-todo migrate new "<description>" --scope tenant|public
  tenant-todo tenant create <name> [--schema s] [--host h] [--json]
  tenant-todo tenant list [--json]
  tenant-todo tenant drop <schema> --yes
  tenant-todo tenant suspend|resume <schema>
  tenant-todo seed [--tenants 3] [--tasks 200] [--users 3] [--json]
  tenant-todo healthcheck            exit 0 when the server on PORT answers /health (for HEALTHCHECK)

From source: bun run migrate -- <verb> …, bun run tenant -- <verb> …, bun run seed -- …`;

const OPTIONS = {
  tenant: { type: "string" },
  all: { type: "boolean" },
  public: { type: "boolean" },
  to: { type: "string" },
  steps: { type: "string" },
  "dry-run": { type: "boolean" },
  concurrency: { type: "string" },
  json: { type: "boolean" },
  scope: { type: "string" },
  schema: { type: "string" },
  host: { type: "string" },
  yes: { type: "boolean" },
  tenants: { type: "string" },
  tasks: { type: "string" },
  users: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

type Args = ReturnType<typeof parseArgs<{ options: typeof OPTIONS; allowPositionals: true }>>;
type Context = { args: Args; config: Config; source: Source; print: (text: string) => void };

class UsageError extends Error {}

function count(value: string | undefined, name: string, fallback?: number): number | undefined {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new UsageError(`--${name} takes a whole number, got "${value}"`);
  return n;
}

function describe(r: UpResult, dryRun: boolean): string {
  if (r.applied.length === 0) return `${r.schema}: at ${r.to} of head, nothing to do`;
  const verb = dryRun ? "would apply" : "applied";
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

function progress(report: TenantReport, done: number, total: number) {
  if (!process.stderr.isTTY) return;
  const mark = report.error ? "✗" : "✓";
  process.stderr.write(`\r\x1b[K[${done}/${total}] ${mark} ${report.schema}${done === total ? "\n" : ""}`);
}

function target(args: Args): "all" | "public" | string {
  const chosen = [args.values.tenant, args.values.all && "all", args.values.public && "public"].filter(Boolean);
  if (chosen.length !== 1) throw new UsageError("choose one of --tenant <schema>, --all or --public");
  if (args.values.tenant) checkSchemaName(args.values.tenant);
  return chosen[0] as string;
}

async function migrate(sql: Sql, { args, source, print }: Context): Promise<number> {
  const [verb] = args.positionals;
  const json = args.values.json;
  const dryRun = Boolean(args.values["dry-run"]);
  const out = (value: unknown, text: string) => print(json ? JSON.stringify(value, null, 2) : text);
  if (verb === "up") {
    const where = target(args);
    const to = count(args.values.to, "to");
    if (where === "public") {
      const r = await up(sql, "public", source.public, { to, dryRun });
      out(r, describe(r, dryRun));
      return 0;
    }
    if (where === "all") {
      const concurrency = count(args.values.concurrency, "concurrency");
      const report = await migrateAll(sql, source.tenant, { dryRun, concurrency, onProgress: json ? undefined : progress });
      out(report, describeFleet(report));
      return report.failed ? 1 : 0;
    }
    await getTenant(sql, where);
    const r = await migrateTenant(sql, source.tenant, where, { to, dryRun });
    const sqlText = dryRun ? source.tenant.filter((m) => r.applied.includes(m.file)).map((m) => `-- ${m.file}\n${m.up}`) : [];
    out(r, [describe(r, dryRun), ...sqlText].join("\n\n"));
    return 0;
  }
  if (verb === "down") {
    const where = target(args);
    if (where === "all") throw new UsageError("down runs one schema at a time: --tenant <schema> or --public");
    const steps = count(args.values.steps, "steps", 1);
    if (where !== "public") await getTenant(sql, where);
    const r = where === "public" ? await down(sql, where, source.public, { steps, dryRun }) : await revertTenant(sql, source.tenant, where, { steps, dryRun });
    out(r, r.applied.length ? `${r.schema}: ${r.from} → ${r.to}, ${dryRun ? "would revert" : "reverted"} ${r.applied.join(", ")}` : `${r.schema}: nothing to revert`);
    return 0;
  }
  if (verb === "status") {
    const where = args.values.tenant || args.values.public ? target(args) : "all";
    if (where === "all") {
      const tenants = (await listTenants(sql)).map((t) => ({
        schema: t.schema,
        name: t.name,
        status: t.status,
        ...registryStatus(t, source.tenant),
      }));
      const text = [
        `head ${source.tenant.length}, ${tenants.length} tenants, ${tenants.filter((t) => t.pending.length).length} behind, ${tenants.filter((t) => t.drift).length} drifted`,
        ...tenants.map((t) => `  ${t.schema.padEnd(24)} ${String(t.revision).padStart(4)}/${t.head}  ${t.status.padEnd(9)} ${t.drift ? `drift: ${t.drift}` : t.pending.length ? `pending: ${t.pending.join(", ")}` : "at head"}`),
      ].join("\n");
      out({ head: source.tenant.length, tenants }, text);
      return tenants.some((t) => t.drift) ? 1 : 0;
    }
    if (where !== "public") await getTenant(sql, where);
    const s = await status(sql, where, where === "public" ? source.public : source.tenant);
    const text = [
      `${s.schema}: revision ${s.revision} of ${s.head}${s.error ? `\n  error: ${s.error}` : ""}`,
      ...s.applied.map((a) => `  ✓ ${String(a.version).padStart(4, "0")}_${a.name}.sql  ${a.applied_at}  ${a.duration}`),
      ...s.pending.map((p) => `  · ${p} (pending)`),
    ].join("\n");
    out(s, text);
    return s.error ? 1 : 0;
  }
  throw new UsageError(`unknown migrate verb "${verb ?? ""}"`);
}

async function tenant(sql: Sql, { args, source, print }: Context): Promise<number> {
  const [verb, subject] = args.positionals;
  const json = args.values.json;
  if (verb === "create") {
    if (!subject) throw new UsageError("tenant create <name> [--schema s] [--host h]");
    const [t] = await createTenant(sql, source.tenant, { name: subject, schema: args.values.schema, host: args.values.host });
    print(json ? JSON.stringify(t, null, 2) : `created ${t.schema} (${t.name}) at revision ${t.revision}`);
    return 0;
  }
  if (verb === "list") {
    const tenants = await listTenants(sql);
    print(
      json
        ? JSON.stringify(tenants, null, 2)
        : tenants.map((t) => `${t.schema.padEnd(24)} ${t.status.padEnd(9)} rev ${t.revision}  ${t.host ?? "-"}  ${t.name}`).join("\n") ||
            "no tenants",
    );
    return 0;
  }
  if (verb === "drop") {
    if (!subject) throw new UsageError("tenant drop <schema> --yes");
    if (!args.values.yes) throw new UsageError(`dropping ${subject} deletes its data: add --yes`);
    await dropTenant(sql, subject);
    print(`dropped ${subject}`);
    return 0;
  }
  if (verb === "suspend" || verb === "resume") {
    if (!subject) throw new UsageError(`tenant ${verb} <schema>`);
    checkSchemaName(subject);
    const t = await setTenantStatus(sql, subject, verb === "suspend" ? "suspended" : "active");
    if (!t) throw new NotFound(`tenant ${subject}`);
    print(`${t.schema} is ${t.status}`);
    return 0;
  }
  throw new UsageError(`unknown tenant verb "${verb ?? ""}"`);
}

function newMigration({ args, config, source, print }: Context): number {
  const description = args.positionals[1];
  const scope = args.values.scope as Scope | undefined;
  if (!description || (scope !== "tenant" && scope !== "public"))
    throw new UsageError('migrate new "<description>" --scope tenant|public');
  const dir = join(config.sqlDir ?? SQL_DIR, scope);
  if (!existsSync(dir) || dir.startsWith("/$bunfs")) throw new UsageError("migrate new writes into sql/: run it from a source checkout");
  const { file, text } = nextFile(source[scope], description, scope);
  writeFileSync(join(dir, file), text, { flag: "wx" });
  print(`created sql/${scope}/${file}`);
  return 0;
}

/** Runs one command; returns the exit code. Output goes through `print` (stdout by default). */
export async function runCli(argv: string[], config: Config, print = (text: string) => console.log(text)): Promise<number> {
  const [command, ...rest] = argv;
  let args: Args;
  try {
    args = parseArgs({ args: rest, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    console.error(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  if (command === "healthcheck") {
    const ok = await fetch(`http://127.0.0.1:${config.port}/health`, { signal: AbortSignal.timeout(3000) }).then((r) => r.ok, () => false);
    if (!ok) console.error(`no healthy server on 127.0.0.1:${config.port}`);
    return ok ? 0 : 1;
  }
  if (args.values.help || !command || !["migrate", "tenant", "seed"].includes(command)) {
    print(USAGE);
    return args.values.help ? 0 : 2;
  }
  let db: Awaited<ReturnType<typeof openDatabase>> | undefined;
  try {
    const context: Context = { args, config, source: loadSource(config.sqlDir), print };
    if (command === "migrate" && args.positionals[0] === "new") return newMigration(context);
    db = await openDatabase(config);
    // The registry must exist before any tenant verb; a dry run changes nothing, not even that.
    if (!args.values["dry-run"] && !(command === "migrate" && args.values.public)) await migratePublic(db.sql, context.source);
    if (command === "migrate") return await migrate(db.sql, context);
    if (command === "tenant") return await tenant(db.sql, context);
    const report = await seed(db.sql, context.source, {
      tenants: count(args.values.tenants, "tenants", 3)!,
      users: count(args.values.users, "users", 3)!,
      tasks: count(args.values.tasks, "tasks", 200)!,
      ttlHours: config.tokenTtlHours,
    });
    print(args.values.json ? JSON.stringify(report, null, 2) : report.map((t) => `${t.schema}  ${t.email}  ${t.password}  token ${t.token}`).join("\n"));
    return 0;
  } catch (error) {
    if (error instanceof UsageError) console.error(`${error.message}\n\n${USAGE}`);
    else if (error instanceof MigrationError || error instanceof AppError) console.error(`error: ${error.message}`);
    else console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    return error instanceof UsageError ? 2 : 1;
  } finally {
    await db?.close();
  }
}
