// `bun run bench:citus`: the same service on a Citus cluster (../shared/citus: a coordinator and two
// workers, all on this machine) and on plain PostgreSQL (a scratch database next to DATABASE_URL),
// side by side: tenant creation through /cc, GET /tasks through a real server process, a
// migrate-all applying one file and the no-op pass after it, and on Citus a tenant moved between
// workers under load. Prints a table. Usage: bun run bench:citus [--tenants 200] [--duration 8]
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import autocannon from "autocannon";
import { SQL_DIR } from "../../src/migrator/source";
import { startCluster } from "../citus/cluster";
import { freePort, percentile, scratchDatabase } from "./support";

const { values } = parseArgs({ options: { tenants: { type: "string", default: "200" }, duration: { type: "string", default: "8" } } });
const N = Number(values.tenants);
const duration = Number(values.duration);
const root = join(import.meta.dir, "../..");
const adminToken = "citus-benchmark-admin-token";
const admin = { authorization: `Bearer ${adminToken}`, "content-type": "application/json" };

// A release with one more tenant file, for the migrate-all.
const nextSql = mkdtempSync(join(tmpdir(), "tenant-todo-citus-sql-"));
cpSync(SQL_DIR, nextSql, { recursive: true });
const nextFile = `${String(Number((await Array.fromAsync(new Bun.Glob("*.sql").scan(join(SQL_DIR, "tenant")))).length) + 1).padStart(4, "0")}_bench_estimate.sql`;
writeFileSync(join(nextSql, "tenant", nextFile), "-- migrate:up\nalter table tasks add column estimate_minutes integer;\n-- squawk-ignore require-concurrent-index-creation -- a benchmark tenant holds 20 tasks\ncreate index tasks_estimate_idx on tasks (estimate_minutes);\n");

async function server(url: string, env: Record<string, string> = {}) {
  const port = await freePort();
  const proc = Bun.spawn(["bun", "src/index.ts"], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "error", ADMIN_TOKEN: adminToken, ...env },
    stdout: "ignore",
    stderr: "inherit",
  });
  const base = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 400 && !(await fetch(`${base}/health/db`).then((r) => r.ok, () => false)); i++) await Bun.sleep(50);
  return { base, stop: () => (proc.kill("SIGTERM"), proc.exited) };
}

async function post(url: string, body: unknown, headers: Record<string, string> = admin) {
  const r = await fetch(url, { method: "POST", headers: { "content-type": "application/json", ...headers }, body: JSON.stringify(body) });
  if (r.status >= 300) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json() as Promise<any>;
}

function load(url: string, headers: Record<string, string>, seconds: number, requests?: autocannon.Request[]) {
  return new Promise<autocannon.Result>((resolve, reject) =>
    autocannon({ url, connections: 32, duration: seconds, headers, requests }, (error, result) => (error ? reject(error) : resolve(result))),
  );
}

type Figures = Record<string, string>;

async function measure(label: string, url: string, citus: boolean): Promise<Figures> {
  const figures: Figures = {};
  const app = await server(url);
  try {
    const times: number[] = [];
    for (let i = 0; i < N; i++) {
      const t0 = performance.now();
      await post(`${app.base}/cc/tenants`, { name: `Bench ${i}` });
      times.push(performance.now() - t0);
    }
    const sorted = times.sort((a, b) => a - b);
    figures.create = `${Math.round(percentile(sorted, 50))} / ${Math.round(percentile(sorted, 99))} ms`;

    const password = "benchmark password";
    const hot = await post(`${app.base}/cc/tenants`, { name: "Hot", admin: { email: `hot.${label}@bench.test`, password, first_name: "H", last_name: "O" } });
    const { token } = await post(`${app.base}/auth/login`, { email: `hot.${label}@bench.test`, password }, {});
    const headers = { tenant: hot.schema, authorization: `Bearer ${token}` };
    for (let i = 0; i < 20; i++) await post(`${app.base}/tasks`, { title: `task ${i}` }, headers);
    await load(`${app.base}/tasks`, headers, 2);
    const list = await load(`${app.base}/tasks`, headers, duration);
    figures.list = `${Math.round(list.requests.average)} req/s, p99 ${list.latency.p99} ms, ${list.errors + list.non2xx} errors`;

    if (citus) {
      // Reads and writes on the tenant while it moves to the other worker.
      const { node } = (await (await fetch(`${app.base}/cc/tenants/${hot.schema}`, { headers: admin })).json()) as { node: string };
      const tenants = (await (await fetch(`${app.base}/cc/tenants`, { headers: admin })).json()) as { node: string }[];
      const to = tenants.map((t) => t.node).find((w) => w !== node);
      const during = load(`${app.base}/tasks`, headers, 6, [
        { method: "GET", path: "/tasks?limit=5" },
        { method: "POST", path: "/tasks", headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify({ title: "during the move" }) },
      ]);
      await Bun.sleep(2000);
      const moved = await post(`${app.base}/cc/tenants/${hot.schema}/move`, { node: to });
      const r = await during;
      figures.move = `${moved.ms} ms (${moved.mode}); meanwhile ${r.requests.total} requests, ${r.errors + r.non2xx} failed, p99 ${r.latency.p99} ms, max ${r.latency.max} ms`;
    }
  } finally {
    await app.stop();
  }

  // The next release on the same database: one more tenant file over the whole fleet, then nothing to do.
  const next = await server(url, { SQL_DIR: nextSql });
  try {
    const t0 = performance.now();
    const applied = await post(`${next.base}/cc/migrate`, {});
    figures.migrate = `${((performance.now() - t0) / 1000).toFixed(2)} s (${applied.migrated} migrated, ${applied.failed} failed of ${applied.total})`;
    const t1 = performance.now();
    await post(`${next.base}/cc/migrate`, {});
    figures.noop = `${Math.round(performance.now() - t1)} ms`;
  } finally {
    await next.stop();
  }
  return figures;
}

const cluster = await startCluster();
const plain = await scratchDatabase("tt_bench_plain");
try {
  console.log(`${N} tenants each on plain PostgreSQL and on Citus (coordinator + 2 workers, same machine)`);
  const results = { plain: await measure("plain", plain.url, false), citus: await measure("citus", cluster.url, true) };
  console.log("\n| | plain PostgreSQL | Citus (through the coordinator) |\n| --- | --- | --- |");
  const rows: [string, keyof Figures][] = [
    [`create a tenant via /cc, one at a time: p50 / p99 (${N})`, "create"],
    ["GET /tasks (20 rows), 32 connections", "list"],
    [`migrate-all applying one file to ${N + 1} tenants`, "migrate"],
    ["no-op migrate-all", "noop"],
    ["move a tenant to the other worker under load", "move"],
  ];
  for (const [what, key] of rows) console.log(`| ${what} | ${results.plain[key] ?? "—"} | ${results.citus[key] ?? "—"} |`);
} finally {
  await plain.drop();
  await cluster.down();
  rmSync(nextSql, { recursive: true, force: true });
}
