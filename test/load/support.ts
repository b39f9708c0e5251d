// Shared by the load scripts: ports, a scratch database, statistics.
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
