// Citus schema-based sharding, when the database has it: which node holds each tenant schema, and
// moving schemas between nodes. On plain PostgreSQL `placements` answers undefined and nothing else
// here is called. Read from Citus's own catalog (pg_dist_*), not citus_schemas/citus_shards, which
// ask every worker for sizes on each call.
import type { Sql } from "./client";

/** A Citus node, "host:port". */
export type Node = string;

export async function distributed(sql: Sql): Promise<boolean> {
  const [{ citus }] = await sql`select to_regclass('pg_catalog.pg_dist_schema') is not null as citus`;
  return citus;
}

/** Which node holds each of these schemas (all distributed schemas when none are named); undefined without Citus. */
export async function placements(sql: Sql, schemas?: readonly string[]): Promise<Map<string, Node> | undefined> {
  if (!(await distributed(sql))) return undefined;
  // Every table of a schema shares one colocation group, hence one node: one shard of any says where.
  const rows = await sql<{ schema: string; node: Node }[]>`
    select ns.nspname as schema, n.nodename || ':' || n.nodeport as node
    from pg_namespace ns
    join pg_dist_schema s on s.schemaid = ns.oid
    cross join lateral (
      select sh.shardid from pg_dist_partition p join pg_dist_shard sh on sh.logicalrelid = p.logicalrelid
      where p.colocationid = s.colocationid limit 1) sh
    join pg_dist_placement pl on pl.shardid = sh.shardid
    join pg_dist_node n on n.groupid = pl.groupid and n.noderole = 'primary'
    ${schemas ? sql`where ns.nspname = any(${sql.array([...schemas], "TEXT")})` : sql``}`;
  return new Map(rows.map((r) => [r.schema, r.node]));
}

/** The nodes that take tenant schemas (workers, and the coordinator if it has shards). */
export async function nodes(sql: Sql): Promise<Node[]> {
  const rows = await sql<{ node: Node }[]>`
    select nodename || ':' || nodeport as node from pg_dist_node
    where noderole = 'primary' and isactive and shouldhaveshards order by nodeid`;
  return rows.map((r) => r.node);
}

/**
 * How Citus copies a schema: without blocking writes (logical replication) when wal_level allows,
 * else blocking writes to that one tenant for the copy (no failed statement either way).
 */
export async function transferMode(sql: Sql): Promise<"auto" | "block_writes"> {
  const [{ level }] = await sql`select current_setting('wal_level') as level`;
  return level === "logical" ? "auto" : "block_writes";
}

export async function moveSchema(sql: Sql, schema: string, host: string, port: number, mode: string) {
  await sql`select citus_schema_move(${schema}::regnamespace, ${host}, ${port}, ${mode}::citus.shard_transfer_mode)`;
}

/** Starts Citus's background rebalancer; undefined when nothing needs moving. */
export async function startRebalance(sql: Sql, strategy: string, mode: string): Promise<number | undefined> {
  const [row] = await sql`
    select citus_rebalance_start(rebalance_strategy := ${strategy}, shard_transfer_mode := ${mode}::citus.shard_transfer_mode) as job`;
  return row?.job ?? undefined;
}

export type RebalanceStatus = { job: number; state: string; started_at: Date | null; finished_at: Date | null; tasks: Record<string, number> };

/** The latest rebalance job, with its tasks counted by state. */
export async function rebalanceStatus(sql: Sql): Promise<RebalanceStatus | undefined> {
  const [row] = await sql<RebalanceStatus[]>`
    select job_id as job, state, started_at, finished_at, coalesce(details -> 'task_state_counts', '{}'::jsonb) as tasks
    from citus_rebalance_status()`;
  return row;
}
