// `audit`: the operators' trail, newest first, as /cc/audit serves it.
import { readAudit } from "../services/audit";
import { command, count, json, output } from "./command";

export const auditCommand = command({
  name: "audit",
  summary: "who created, dropped, suspended, resumed or migrated what, through /cc and the CLI (newest first)",
  options: {
    schema: { type: "string", value: "<schema>", help: "one tenant's events (public: the registry's)" },
    action: { type: "string", value: "<action>", help: "e.g. tenant.create, fleet.migrate" },
    limit: { type: "string", value: "N", help: "default 100, at most 1000" },
    before: { type: "string", value: "<id|time>", help: "older than this event id or ISO time" },
    json,
  },
  async run(context) {
    const { values, db } = context;
    const events = await readAudit(db.sql, { schema: values.schema, action: values.action, limit: count(values.limit, "limit"), before: values.before });
    const line = (e: (typeof events)[number]) =>
      `${String(e.id).padStart(6)}  ${e.at.toISOString()}  ${e.actor.padEnd(22)} ${e.action.padEnd(16)} ${(e.schema ?? "-").padEnd(24)} ${e.outcome.padEnd(6)} ${JSON.stringify(e.details)}`;
    output(context, events, events.map(line).join("\n") || "no events");
    return 0;
  },
});
