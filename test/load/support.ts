// Shared by the load scripts: ports, a scratch database, statistics, autocannon.
import autocannon from "autocannon";
import { SQL } from "bun";

export { freePort } from "../../src/db/embedded";

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

export function summary(ms: number[]) {
  const sorted = [...ms].sort((a, b) => a - b);
  const round = (n: number) => Math.round(n * 10) / 10;
  return { n: ms.length, p50: round(percentile(sorted, 50)), p99: round(percentile(sorted, 99)), max: round(sorted.at(-1) ?? NaN), total: round(ms.reduce((a, b) => a + b, 0)) };
}

/** A brand-new database next to DATABASE_URL's (default: the local server), dropped by `drop()`. */
export async function scratchDatabase(prefix: string) {
  const base = new URL(process.env.DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres");
  const name = `${prefix}_${Date.now()}_${process.pid}`;
  const admin = new SQL(base.toString(), { max: 1 });
  await admin`create database ${admin(name)}`;
  const url = new URL(base);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      await admin`drop database if exists ${admin(name)} with (force)`;
      await admin.close();
    },
  };
}

/** Sum of RSS and PSS (MiB) of this database's backends (of one application, if named), read from /proc (same machine only). */
export async function postgresMemory(sql: SQL, application?: string) {
  const rows = await sql<{ pid: number }[]>`
    select pid from pg_stat_activity where datname = current_database() ${application ? sql`and application_name like ${`${application}%`}` : sql``}`;
  let rss = 0;
  let pss = 0;
  for (const { pid } of rows) {
    try {
      const rollup = await Bun.file(`/proc/${pid}/smaps_rollup`).text();
      rss += Number(/^Rss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
      pss += Number(/^Pss:\s+(\d+)/m.exec(rollup)?.[1] ?? 0);
    } catch {}
  }
  return { backends: rows.length, rss_mib: Math.round(rss / 1024), pss_mib: Math.round(pss / 1024) };
}

/** How big PostgreSQL's catalog has grown: relations, columns, the pg_catalog tables' size, the database's. */
export async function catalogSize(sql: SQL) {
  const [row] = await sql`
    select (select count(*) from pg_class)::int as relations, (select count(*) from pg_attribute)::int as attributes,
      (select sum(pg_total_relation_size(c.oid)) from pg_class c join pg_namespace n on n.oid = c.relnamespace
        where n.nspname = 'pg_catalog' and c.relkind = 'r')::bigint as catalog_bytes,
      pg_database_size(current_database()) as database_bytes`;
  const mib = (bytes: unknown) => Math.round(Number(bytes) / 1024 / 1024);
  return { relations: row.relations as number, attributes: row.attributes as number, catalog_mib: mib(row.catalog_bytes), database_mib: mib(row.database_bytes) };
}

export type LoadRequest = { method?: string; path: string; body?: string; headers?: Record<string, string> };
export type LoadResult = { rps: number; p50: number; p975: number; p99: number; errors: number; non2xx: number; requests: number };

/** autocannon on `url`, each request from `pick(i)`, for `seconds` or until `stop()`. */
export function load(url: string, pick: (i: number) => LoadRequest, options: { connections: number; seconds: number }) {
  let i = 0;
  let instance: autocannon.Instance | undefined;
  const done = new Promise<LoadResult>((resolve, reject) => {
    instance = autocannon(
      {
        url,
        connections: options.connections,
        duration: options.seconds,
        requests: [
          {
            setupRequest: (req: any) => {
              const next = pick(i++);
              return { ...req, method: next.method ?? "GET", path: next.path, body: next.body, headers: { ...next.headers, ...(next.body && { "content-type": "application/json" }) } };
            },
          },
        ],
      },
      (error, r) =>
        error
          ? reject(error)
          : resolve({ rps: Math.round(r.requests.average), p50: r.latency.p50, p975: r.latency.p97_5, p99: r.latency.p99, errors: r.errors + r.timeouts, non2xx: r.non2xx, requests: r.requests.total }),
    );
  });
  return { done, stop: () => instance?.stop() };
}
