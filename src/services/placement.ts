// Where tenants live when the database is a Citus cluster (schema-based sharding puts each tenant
// schema, all its tables, on one node), moving one while it serves, and rebalancing the fleet.
// Without Citus, listings simply carry no node and the verbs answer 409 `not_distributed`.
import type { Sql } from "../db/client";
import { distributed, moveSchema, nodes, placements, rebalanceStatus, startRebalance, transferMode, type Node } from "../db/citus";
import { AppError, Invalid } from "../errors";
import { getTenant } from "./tenants";

export const STRATEGIES = ["by_disk_size", "by_shard_count"] as const;

const notDistributed = () =>
  new AppError(409, "not_distributed", "this database has no Citus schema-based sharding: tenants have no node to move between");

/** The tenants, each with the node that holds it when on Citus. */
export async function withNodes<T extends { schema: string }>(sql: Sql, tenants: T[]): Promise<(T & { node?: Node })[]> {
  const placed = await placements(sql, tenants.length === 1 ? [tenants[0]!.schema] : undefined);
  return placed ? tenants.map((t) => ({ ...t, node: placed.get(t.schema) })) : tenants;
}

function parseNode(node: string) {
  const match = /^([A-Za-z0-9.-]+|\[[0-9a-fA-F:.]+\]):(\d{1,5})$/.exec(node);
  if (!match || Number(match[2]) > 65535) throw new Invalid(`node must be host:port, got "${node.slice(0, 80)}"`, [{ path: "/node" }]);
  return { host: match[1]!, port: Number(match[2]) };
}

/**
 * Moves a tenant's schema to another node while it serves (Citus citus_schema_move): reads go on,
 * writes to this tenant wait for the copy unless wal_level is logical. Reports how long it took.
 */
export async function moveTenant(sql: Sql, schema: string, node: string) {
  const { host, port } = parseNode(node);
  await getTenant(sql, schema);
  const from = (await placements(sql, [schema]))?.get(schema);
  if (from === undefined) throw notDistributed();
  if (!(await nodes(sql)).includes(node)) throw new Invalid(`${node} is not a node that takes tenants`, [{ path: "/node" }]);
  if (from === node) throw new AppError(409, "already_there", `${schema} is already on ${node}`);
  const mode = await transferMode(sql);
  const started = performance.now();
  // A copy takes as long as the tenant is big: no statement timeout on this session.
  const conn = await sql.reserve();
  try {
    await conn`select set_config('statement_timeout', '0', false)`;
    await moveSchema(conn, schema, host, port, mode);
  } finally {
    await conn.unsafe("reset statement_timeout").catch(() => {});
    conn.release();
  }
  return { schema, from, to: node, mode, ms: Math.round(performance.now() - started) };
}

/** Starts Citus's rebalancer in the background; its progress is `rebalanceProgress`. */
export async function rebalance(sql: Sql, strategy: (typeof STRATEGIES)[number] = "by_disk_size") {
  if (!(await distributed(sql))) throw notDistributed();
  const job = await startRebalance(sql, strategy, await transferMode(sql));
  return { started: job !== undefined, strategy, ...(await rebalanceProgress(sql)) };
}

export async function rebalanceProgress(sql: Sql) {
  if (!(await distributed(sql))) throw notDistributed();
  const status = await rebalanceStatus(sql);
  return { job: status?.job ?? null, state: status?.state ?? "none", tasks: status?.tasks ?? {}, started_at: status?.started_at ?? null, finished_at: status?.finished_at ?? null };
}
