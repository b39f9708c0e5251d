// `tenant create | list | drop | suspend | resume`: the same operations as /cc, audited alike.
import { listTenants } from "../db/tenants";
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
    summary: "every tenant with its status and revision",
    options: { json },
    async run(context) {
      const tenants = await listTenants(context.db.sql);
      const text = tenants.map((t) => `${t.schema.padEnd(24)} ${t.status.padEnd(9)} rev ${t.revision}  ${t.host ?? "-"}  ${t.name}`).join("\n");
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
];
