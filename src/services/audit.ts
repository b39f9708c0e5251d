// The operators' audit trail: every write through /cc and the CLI appends one event (who, what,
// which schema, ok or failed, details), through `audited` and nothing else (operations.ts).
import { readFileSync } from "node:fs";
import { userInfo } from "node:os";
import type { Sql } from "../db/client";
import { insertAuditEvent, listAuditEvents, type AuditEvent, type AuditQuery } from "../db/audit";
import { sha256 } from "../digest";
import { Invalid } from "../errors";
import type { AuthCache } from "./cache";

/** An operator at work: what they work on, and who they are for the trail. */
export type Operator = { sql: Sql; cache: AuthCache; actor: string };

type Details = Record<string, unknown>;

/** The person at the terminal, as the OS knows them (informative: whoever holds DATABASE_URL could write anything). */
export function cliActor(): string {
  return `cli:${osUser()}`;
}

function osUser(): string {
  try {
    const name = userInfo().username;
    if (name && name !== "unknown") return name;
  } catch {}
  // Bun answers "unknown" without $USER (cron, containers): look the uid up instead.
  const uid = process.getuid?.();
  if (uid === undefined) return "unknown";
  try {
    const entry = readFileSync("/etc/passwd", "utf8").split("\n").find((line) => line.split(":")[2] === String(uid));
    if (entry) return entry.split(":")[0]!;
  } catch {}
  return `uid-${uid}`;
}

/** Which admin token, never the token: the first 8 hex of its SHA-256, enough to tell a rotated one apart. */
export function tokenActor(token: string): string {
  return `admin-token:${sha256(token, "hex").slice(0, 8)}`;
}

/**
 * Runs one operator write and appends its event: `ok` with what `after` makes of the result
 * (a schema only known then, more details, or `failed` for a partial failure), or `failed` with
 * the error's message, which is then rethrown. The event is written after the work: when it
 * cannot be, the caller gets that error although the work was done, rather than a silent gap.
 * A dry run changes nothing and leaves no event.
 */
export async function audited<T>(
  op: Operator,
  event: { action: string; schema?: string | null; details?: Details; dryRun?: boolean },
  work: () => Promise<T>,
  after: (result: T) => { schema?: string; failed?: boolean; details?: Details } = () => ({}),
): Promise<T> {
  if (event.dryRun) return work();
  const record = (outcome: "ok" | "failed", schema: string | null | undefined, details: Details) =>
    insertAuditEvent(op.sql, { actor: op.actor, action: event.action, schema: schema ?? null, outcome, details }).catch((error) => {
      // Undefined table: the registry is below the file that adds the trail, which happens only
      // while the registry itself is migrated (or reverted) across it.
      if ((error as { errno?: string }).errno !== "42P01") throw error;
    });
  let result: T;
  try {
    result = await work();
  } catch (error) {
    await record("failed", event.schema, { ...event.details, error: error instanceof Error ? error.message : String(error) }).catch(() => {});
    throw error;
  }
  const summary = after(result);
  await record(summary.failed ? "failed" : "ok", summary.schema ?? event.schema, { ...event.details, ...summary.details });
  return result;
}

/** The trail, newest first; `before` is an event id (the next page) or an ISO time. */
export function readAudit(sql: Sql, query: { schema?: string; action?: string; limit?: number; before?: string }): Promise<AuditEvent[]> {
  const limit = query.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) throw new Invalid("limit must be between 1 and 1000", [{ path: "/limit" }]);
  let before: AuditQuery["before"];
  if (query.before !== undefined) {
    before = /^\d{1,10}$/.test(query.before) ? Number(query.before) : new Date(query.before);
    if (typeof before !== "number" && Number.isNaN(before.getTime())) throw new Invalid("before must be an event id or an ISO 8601 time", [{ path: "/before" }]);
  }
  return listAuditEvents(sql, { schema: query.schema, action: query.action, limit, before });
}
