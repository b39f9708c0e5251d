// The operators' audit trail (public.audit_events): appended, read newest first.
import type { Sql } from "./client";

export type AuditEvent = {
  id: number;
  at: Date;
  actor: string;
  action: string;
  schema: string | null;
  outcome: "ok" | "failed";
  details: Record<string, unknown>;
};

export type AuditQuery = { schema?: string; action?: string; limit: number; before?: number | Date };

export async function insertAuditEvent(sql: Sql, event: Omit<AuditEvent, "id" | "at">) {
  await sql`
    insert into public.audit_events (actor, action, schema, outcome, details)
    values (${event.actor}, ${event.action}, ${event.schema}, ${event.outcome}, ${event.details}::jsonb)`;
}

/** Newest first; `before` an event's id (the next page after it) or a time. */
export function listAuditEvents(sql: Sql, query: AuditQuery): Promise<AuditEvent[]> {
  const { schema, action, before } = query;
  return sql<AuditEvent[]>`
    select id, at, actor, action, schema, outcome, details from public.audit_events
    where true
      ${schema !== undefined ? sql`and schema = ${schema}` : sql``}
      ${action !== undefined ? sql`and action = ${action}` : sql``}
      ${typeof before === "number" ? sql`and id < ${before}` : before ? sql`and at < ${before}` : sql``}
    order by id desc
    limit ${query.limit}`;
}
