// The command line: every verb is declared once (command.ts) and calls the same functions as /cc;
// the usage text and the dispatch come from those declarations. Errors are formatted here, at the
// edge, and nowhere else. Exit codes: 0 done, 1 failed, 2 usage, 75 blocked by a lock (try again).
import type { Config } from "../config";
import { openDatabase, type Database } from "../db/client";
import { AppError } from "../errors";
import { Blocked, MigrationError } from "../migrator/errors";
import { migratePublic } from "../migrator/migrator";
import { loadSource } from "../migrator/source";
import { cliActor } from "../services/audit";
import { AuthCache } from "../services/cache";
import { operations } from "../services/operations";
import { UsageError, command, count, json, output, parse, usageLine, type Command, type Context } from "./command";
import { auditCommand } from "./audit";
import { migrateCommands } from "./migrate";
import { runCommands } from "./runs";
import { tenantCommands } from "./tenant";

const seedCommand = command({
  name: "seed",
  summary: "faker demo data: tenants with users and tasks, and a login for each",
  options: {
    tenants: { type: "string", value: "N", help: "default 3" },
    tasks: { type: "string", value: "N", help: "per tenant, default 200" },
    users: { type: "string", value: "N", help: "per tenant, default 3" },
    json,
  },
  async run(context) {
    const { values, ops, source, config } = context;
    const logins = await ops.seed(source, {
      tenants: count(values.tenants, "tenants", 3)!,
      users: count(values.users, "users", 3)!,
      tasks: count(values.tasks, "tasks", 200)!,
      ttlHours: config.tokenTtlHours,
    });
    output(context, logins, logins.map((t) => `${t.schema}  ${t.email}  ${t.password}  token ${t.token}`).join("\n"));
    return 0;
  },
});

const healthcheckCommand = command({
  name: "healthcheck",
  summary: "exit 0 when the server on PORT answers /health (for a container's HEALTHCHECK)",
  options: {},
  database: false,
  async run({ config }) {
    const ok = await fetch(`http://127.0.0.1:${config.port}/health`, { signal: AbortSignal.timeout(3000) }).then((r) => r.ok, () => false);
    if (!ok) console.error(`no healthy server on 127.0.0.1:${config.port}`);
    return ok ? 0 : 1;
  },
});

const COMMANDS: Command[] = [...migrateCommands, ...runCommands, ...tenantCommands, seedCommand, auditCommand, healthcheckCommand];

export const USAGE = [
  "tenant-todo — multi-tenant TODO API",
  "",
  "  tenant-todo                       serve the API (PORT, HOST, DATABASE_URL, …; see README)",
  ...COMMANDS.map((c) => `  tenant-todo ${usageLine(c)}\n      ${c.summary}`),
  "",
  "From source: bun run migrate -- <verb> …, bun run tenant -- <verb> …, bun run seed -- …; --help after any verb.",
].join("\n");

function help(c: Command): string {
  const options = Object.entries(c.options).map(([name, o]) => `  --${name}${o.type === "string" ? ` ${o.value ?? "<value>"}` : ""}  ${o.help}`);
  return [`tenant-todo ${usageLine(c)}`, `  ${c.summary}`, ...options].join("\n");
}

/** Runs one command; returns the exit code. Output goes through `print` (stdout by default). */
export async function runCli(argv: string[], config: Config, print = (text: string) => console.log(text)): Promise<number> {
  const c = COMMANDS.find((c) => c.name.split(" ").every((word, i) => argv[i] === word));
  if (!c) {
    console.error(`${argv[0] && argv.join(" ").trim() ? `unknown command "${argv.slice(0, 2).join(" ")}"\n\n` : ""}${USAGE}`);
    return 2;
  }
  let db: Database | undefined;
  try {
    const { values, positionals } = parse(c, argv.slice(c.name.split(" ").length));
    if (values.help) {
      print(help(c));
      return 0;
    }
    const source = loadSource(config.sqlDir);
    if (c.database !== false) {
      db = await openDatabase(config);
      // The registry must exist before any tenant verb; a dry run changes nothing, not even that.
      if (!values["dry-run"] && !(c.name.startsWith("migrate") && values.public)) await migratePublic(db.sql, source);
    }
    const cache = new AuthCache(0);
    const ops = operations({ sql: db?.sql!, cache, actor: cliActor() });
    const context = { values, positionals, config, source, db: db!, store: { db: db!, cache }, ops, print } as Context;
    return await c.run(context);
  } catch (error) {
    if (error instanceof UsageError) {
      console.error(`${error.message}\n\n${help(c)}`);
      return 2;
    }
    // Expected failures (AppError, MigrationError) carry their own message; anything else too, without a stack.
    const known = error instanceof AppError || error instanceof MigrationError;
    console.error(`error: ${error instanceof Error ? error.message : String(error)}${known ? "" : ` (${(error as Error)?.name ?? "Error"})`}`);
    return error instanceof Blocked ? 75 : 1; // EX_TEMPFAIL: a lock stood in the way; try again later
  } finally {
    await db?.close();
  }
}
