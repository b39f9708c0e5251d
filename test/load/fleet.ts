// Fleet benchmark through the control API on a scratch database:
//   1. create N tenants through POST /cc/tenants (total, p50/p99), sampling creation cost early and late;
//   2. migrate-all applying one new tenant file (a recorded run); 3. the no-op pass; 4. PostgreSQL
//   backend memory and the catalog's size.
// Usage: bun test/load/fleet.ts [--tenants 1000] [--concurrency 4] [--pool 10] [--prefix tt_fleet]
import { parseArgs } from "node:util";
import { createApp } from "../../src/app";
import { loadConfig } from "../../src/config";
import { openDatabase } from "../../src/db/client";
import { parseMigration } from "../../src/migrator/files";
import { migratePublic } from "../../src/migrator/migrator";
import { loadSource } from "../../src/migrator/source";
import { mapLimit } from "../../src/migrator/fleet";
import { catalogSize, postgresMemory, scratchDatabase, summary } from "./support";

const { values } = parseArgs({
  options: {
    tenants: { type: "string", default: "1000" },
    concurrency: { type: "string", default: "4" },
    pool: { type: "string", default: "10" },
    prefix: { type: "string", default: "tt_fleet" },
  },
});
const N = Number(values.tenants);
const concurrency = Number(values.concurrency);
const adminToken = "fleet-benchmark-admin-token";

const scratch = await scratchDatabase(values.prefix!);
const config = { ...loadConfig({ DATABASE_URL: scratch.url }), adminToken, logLevel: "silent" as const, dbPoolMax: Number(values.pool) };
const db = await openDatabase(config);
const { sql } = db;
const source = loadSource();
await migratePublic(sql, source);
const server = createApp({ config, db, source }).listen({ port: 0, hostname: "127.0.0.1" });
const base = `http://127.0.0.1:${server.server!.port}`;
const headers = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };

async function post(path: string, body: unknown) {
  const started = performance.now();
  const r = await fetch(`${base}${path}`, { method: "POST", headers, body: JSON.stringify(body) });
  if (r.status >= 300) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return { ms: performance.now() - started, body: await r.json() };
}

try {
  console.log(`fleet benchmark: ${N} tenants, ${concurrency} concurrent creators, pool ${config.dbPoolMax}, PostgreSQL ${(await sql`show server_version`)[0]!.server_version}`);
  const create = async (i: number) => (await post("/cc/tenants", { name: `Tenant ${i}`, schema: `t${String(i).padStart(6, "0")}` })).ms;
  // The cost of the next tenant, one at a time (median of 100), early and with N tenants present.
  const oneByOne = async (from: number) => {
    const ms: number[] = [];
    for (let i = from; i < from + 100; i++) ms.push(await create(i));
    return summary(ms);
  };
  await mapLimit([...Array(10).keys()], 1, create);
  const early = await oneByOne(10);
  const started = performance.now();
  const times = await mapLimit(Array.from({ length: N - 110 }, (_, i) => i + 110), concurrency, create);
  const total = performance.now() - started;
  const late = await oneByOne(N);
  console.log(`create ${N - 110} tenants via /cc, ${concurrency} at a time: ${(total / 1000).toFixed(1)} s total, per tenant ${JSON.stringify(summary(times))}`);
  console.log(`  one at a time, 100 each: with 10–110 present p50 ${early.p50} ms, p99 ${early.p99} ms;  with ${N}–${N + 100} present p50 ${late.p50} ms, p99 ${late.p99} ms`);

  // A new release with one more tenant file, as a second app on the same database.
  const next = { ...source, tenant: [...source.tenant, parseMigration(`${String(source.tenant.length + 1).padStart(4, "0")}_bench_notes.sql`, "-- migrate:up\ncreate table bench_notes (id int generated always as identity primary key, body text not null);\ncreate index bench_notes_body_idx on bench_notes (body);\n")] };
  const upgraded = createApp({ config, db, source: next }).listen({ port: 0, hostname: "127.0.0.1" });
  const upBase = `http://127.0.0.1:${upgraded.server!.port}`;
  const migrate = async (body: unknown) => {
    const t0 = performance.now();
    const r = await fetch(`${upBase}/cc/migrate`, { method: "POST", headers, body: JSON.stringify(body) });
    return { ms: performance.now() - t0, report: (await r.json()) as { migrated: number; unchanged: number; failed: number; total: number } };
  };
  const applied = await migrate({ concurrency: Math.max(1, Math.floor(config.dbPoolMax / 2)) });
  console.log(`migrate-all applying one file: ${(applied.ms / 1000).toFixed(2)} s (${applied.report.migrated} migrated, ${applied.report.failed} failed of ${applied.report.total})`);
  const noop = await migrate({});
  console.log(`no-op pass: ${Math.round(noop.ms)} ms (${noop.report.unchanged} unchanged of ${noop.report.total})`);
  console.log(`PostgreSQL backends: ${JSON.stringify(await postgresMemory(sql))}`);
  console.log(`catalog: ${JSON.stringify(await catalogSize(sql))}`);
  await upgraded.stop();
} finally {
  await server.stop();
  await db.close();
  await scratch.drop();
}
