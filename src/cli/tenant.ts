// `tenant create | list | drop | suspend | resume`: the same service functions as /cc.
import type { Sql } from "../db/client";
import { listTenants } from "../db/tenants";
import { createTenant, dropTenant, setStatus } from "../services/tenants";
import { UsageError, output, type Context } from "./args";

export async function tenant(sql: Sql, context: Context): Promise<number> {
  const { args, source, print } = context;
  const [verb, subject] = args.positionals;
  if (verb === "list") {
    const tenants = await listTenants(sql);
    const text = tenants.map((t) => `${t.schema.padEnd(24)} ${t.status.padEnd(9)} rev ${t.revision}  ${t.host ?? "-"}  ${t.name}`).join("\n");
    output(context, tenants, text || "no tenants");
    return 0;
  }
  if (!subject) throw new UsageError(`tenant ${verb ?? "<verb>"} needs a ${verb === "create" ? "name" : "schema"}`);
  if (verb === "create") {
    const [t] = await createTenant(sql, source.tenant, { name: subject, schema: args.values.schema, host: args.values.host });
    output(context, t, `created ${t.schema} (${t.name}) at revision ${t.revision}`);
  } else if (verb === "drop") {
    if (!args.values.yes) throw new UsageError(`dropping ${subject} deletes its data: add --yes`);
    await dropTenant(sql, subject);
    print(`dropped ${subject}`);
  } else if (verb === "suspend" || verb === "resume") {
    const t = await setStatus(sql, subject, verb === "suspend" ? "suspended" : "active");
    print(`${t.schema} is ${t.status}`);
  } else throw new UsageError(`unknown tenant verb "${verb}"`);
  return 0;
}
