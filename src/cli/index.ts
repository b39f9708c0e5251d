// The command line: `migrate`, `tenant` and `seed` verbs calling the same functions as /cc, and
// `healthcheck` for containers. Errors are formatted here, at the edge, and nowhere else.
import { parseArgs } from "node:util";
import type { Config } from "../config";
import { openDatabase, type Database } from "../db/client";
import { AppError } from "../errors";
import { MigrationError } from "../migrator/errors";
import { migratePublic } from "../migrator/migrator";
import { loadSource } from "../migrator/source";
import { seed } from "../services/seed";
import { OPTIONS, UsageError, count, output, type Args, type Context } from "./args";
import { migrate, newMigration } from "./migrate";
import { tenant } from "./tenant";

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

async function healthcheck(config: Config): Promise<number> {
  const ok = await fetch(`http://127.0.0.1:${config.port}/health`, { signal: AbortSignal.timeout(3000) }).then((r) => r.ok, () => false);
  if (!ok) console.error(`no healthy server on 127.0.0.1:${config.port}`);
  return ok ? 0 : 1;
}

async function demo(sql: Database["sql"], context: Context): Promise<number> {
  const { args, config, source } = context;
  const logins = await seed(sql, source, {
    tenants: count(args.values.tenants, "tenants", 3)!,
    users: count(args.values.users, "users", 3)!,
    tasks: count(args.values.tasks, "tasks", 200)!,
    ttlHours: config.tokenTtlHours,
  });
  output(context, logins, logins.map((t) => `${t.schema}  ${t.email}  ${t.password}  token ${t.token}`).join("\n"));
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
  if (command === "healthcheck") return healthcheck(config);
  if (args.values.help || !command || !["migrate", "tenant", "seed"].includes(command)) {
    print(USAGE);
    return args.values.help ? 0 : 2;
  }
  let db: Database | undefined;
  try {
    const context: Context = { args, config, source: loadSource(config.sqlDir), print };
    if (command === "migrate" && args.positionals[0] === "new") return newMigration(context);
    db = await openDatabase(config);
    // The registry must exist before any tenant verb; a dry run changes nothing, not even that.
    if (!args.values["dry-run"] && !(command === "migrate" && args.values.public)) await migratePublic(db.sql, context.source);
    if (command === "migrate") return await migrate(db.sql, context);
    if (command === "tenant") return await tenant(db.sql, context);
    return await demo(db.sql, context);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${USAGE}`);
      return 2;
    }
    // Expected failures (AppError, MigrationError) carry their own message; anything else too, without a stack.
    const known = error instanceof AppError || error instanceof MigrationError;
    console.error(`error: ${error instanceof Error ? error.message : String(error)}${known ? "" : ` (${(error as Error)?.name ?? "Error"})`}`);
    return 1;
  } finally {
    await db?.close();
  }
}
