// `tenant create | list | drop | suspend | resume | move | rebalance`: the same operations as /cc, audited alike.
import { listTenants } from "../db/tenants";
import { STRATEGIES, rebalanceProgress, withNodes } from "../services/placement";
import { UsageError, command, json, output, type Context } from "./command";

/** The one positional a verb needs, or a UsageError naming it. */
function subject({ positionals }: Pick<Context, "positionals">, what: string): string {
  const [value] = positionals;
  if (!value) throw new UsageError(`this verb needs a ${what}`);
  return value;
}

export const tenantCommands = [
  command({
    name: "tenant create",
    args: "<name>",
    summary: "create a tenant, migrated to head",
    options: { schema: { type: "string", value: "<schema>", help: "default: from the name" }, host: { type: "string", value: "<host>", help: "a Host header that reaches it" }, json },
    async run(context) {
      const { values, ops, source } = context;
      const { tenant: t } = await ops.createTenant(source.tenant, { name: subject(context, "name"), schema: values.schema, host: values.host });
      output(context, t, `created ${t.schema} (${t.name}) at revision ${t.revision}`);
      return 0;
    },
  }),
  command({
    name: "tenant list",
    summary: "every tenant with its status, revision and (on Citus) node",
    options: { json },
    async run(context) {
      const tenants = await withNodes(context.db.sql, await listTenants(context.db.sql));
      const text = tenants
        .map((t) => `${t.schema.padEnd(24)} ${t.status.padEnd(9)} rev ${t.revision}  ${t.node ? `${t.node}  ` : ""}${t.host ?? "-"}  ${t.name}`)
        .join("\n");
      output(context, tenants, text || "no tenants");
      return 0;
    },
  }),
  command({
    name: "tenant drop",
    args: "<schema>",
    summary: "drop a tenant's schema and registry rows",
    options: { yes: { type: "boolean", help: "yes, delete its data" } },
    async run(context) {
      const schema = subject(context, "schema");
      if (!context.values.yes) throw new UsageError(`dropping ${schema} deletes its data: add --yes`);
      await context.ops.dropTenant(schema);
      context.print(`dropped ${schema}`);
      return 0;
    },
  }),
  ...(["suspend", "resume"] as const).map((verb) =>
    command({
      name: `tenant ${verb}`,
      args: "<schema>",
      summary: verb === "suspend" ? "its API answers 403; its data stays" : "serve a suspended tenant again",
      options: {},
      async run(context) {
        const t = await context.ops.setStatus(subject(context, "schema"), verb === "suspend" ? "suspended" : "active");
        context.print(`${t.schema} is ${t.status}`);
        return 0;
      },
    }),
  ),
  command({
    name: "tenant move",
    args: "<schema>",
    summary: "Citus: move a tenant to another node while it serves",
    options: { to: { type: "string", value: "host:port", help: "the node to move it to" }, json },
    async run(context) {
      if (!context.values.to) throw new UsageError("tenant move <schema> --to host:port");
      const moved = await context.ops.moveTenant(subject(context, "schema"), context.values.to);
      output(context, moved, `moved ${moved.schema} from ${moved.from} to ${moved.to} in ${moved.ms} ms (${moved.mode})`);
      return 0;
    },
  }),
  command({
    name: "tenant rebalance",
    summary: "Citus: spread tenants over the nodes in the background, printing progress until done",
    options: {
      strategy: { type: "string", value: STRATEGIES.join("|"), help: "by disk size (default) or by count" },
      "no-wait": { type: "boolean", help: "start it and return" },
      json,
    },
    async run(context) {
      const { values, db } = context;
      const strategy = values.strategy ?? "by_disk_size";
      if (!(STRATEGIES as readonly string[]).includes(strategy)) throw new UsageError(`--strategy is one of ${STRATEGIES.join(", ")}`);
      let status = await context.ops.rebalance(strategy as (typeof STRATEGIES)[number]);
      if (!status.started) {
        output(context, status, "nothing to move: the tenants are balanced");
        return 0;
      }
      while (!values["no-wait"] && !["finished", "failed", "cancelled"].includes(status.state)) {
        if (!values.json) context.print(`job ${status.job}: ${status.state} ${JSON.stringify(status.tasks)}`);
        await Bun.sleep(1000);
        status = { ...status, ...(await rebalanceProgress(db.sql)) };
      }
      output(context, status, `job ${status.job}: ${status.state} ${JSON.stringify(status.tasks)}`);
      return status.state === "failed" || status.state === "cancelled" ? 1 : 0;
    },
  }),
];
