// `bun run bench`: seeds a scratch database with faker tenants, users and tasks, starts the real
// server and the bare baselines (Bun.serve on Bun's SQL, and on postgres.js) as separate processes,
// and drives them with autocannon over loopback, alternating real and baselines round by round so
// the ratios survive a noisy machine.
// Usage: bun run bench [--duration 8] [--connections 50] [--tenants 1000] [--rounds 2] [--workers 2]
//                      [--only get,get304,getOne,post,patch,users,mix,spread,workers] [--soak 60]
import { faker } from "@faker-js/faker";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { loadConfig } from "../../src/config";
import { connect, openDatabase } from "../../src/db/client";
import { mapLimit } from "../../src/migrator/fleet";
import { migratePublic } from "../../src/migrator/migrator";
import { loadSource } from "../../src/migrator/source";
import { issueToken } from "../../src/services/auth";
import { hashPassword } from "../../src/services/passwords";
import { fakeEmail, populate } from "../../src/services/seed";
import { createTenant } from "../../src/services/tenants";
import { addUser } from "../../src/services/users";
import { freePort, load, postgresMemory, scratchDatabase, type LoadRequest } from "./support";

const { values } = parseArgs({
  options: {
    duration: { type: "string", default: "8" },
    connections: { type: "string", default: "50" },
    tenants: { type: "string", default: "1000" },
    rounds: { type: "string", default: "2" },
    workers: { type: "string", default: "2" },
    pool: { type: "string", default: "4" },
    prepare: { type: "string", default: "true" },
    only: { type: "string" },
    soak: { type: "string" },
  },
});
const duration = Number(values.duration);
const connections = Number(values.connections);
const tenantCount = Math.max(3, Number(values.tenants));
const only = values.only?.split(",");
const wanted = (name: string) => !only || only.includes(name);
const root = join(import.meta.dir, "../..");

// The server under test needs a database: DATABASE_URL's server, else the embedded default.
const host = await openDatabase(loadConfig());
process.env.DATABASE_URL = host.url;
const scratch = await scratchDatabase("tt_bench");
// The bench's own pool is named apart, so the memory figures count only the servers' backends.
const sql = connect(scratch.url, loadConfig(), { max: 8, name: "bench" });
const source = loadSource();
await migratePublic(sql, source);

type Seeded = { schema: string; token: string };

async function seed(): Promise<Seeded[]> {
  const started = performance.now();
  const password_hash = await hashPassword("benchmark password");
  const tenants = await mapLimit([...Array(tenantCount).keys()], 4, async (i) => {
    const schema = `bench_${String(i).padStart(5, "0")}`;
    const [tenant, admin] = await createTenant(sql, source.tenant, { name: faker.company.name(), schema }, (tx, t) =>
      addUser(tx, t, { email: fakeEmail("admin", String(i)), password_hash, first_name: faker.person.firstName(), last_name: faker.person.lastName(), role: "admin" }),
    );
    await populate(sql, tenant, admin.id, { users: 5, tasks: 20, passwordHash: password_hash });
    const { token } = await issueToken(sql, schema, admin.id, 24);
    return { schema, token };
  });
  console.log(`seeded ${tenantCount} tenants × (5 users, 20 tasks) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
  return tenants;
}

async function spawnServer(script: string, env: Record<string, string>) {
  const port = await freePort();
  const proc = Bun.spawn(["bun", script], {
    cwd: root,
    env: {
      ...process.env,
      DATABASE_URL: scratch.url,
      PORT: String(port),
      HOST: "127.0.0.1",
      LOG_LEVEL: "warn",
      DB_POOL_MAX: values.pool!,
      // The POST scenarios write more than the default 100,000 tasks into one tenant over a full
      // run; "off" keeps the very same counted insert, with no ceiling. TENANT_RATE stays off.
      TENANT_MAX_TASKS: "off",
      TENANT_RATE: "off",
      ...env,
    },
    stdout: "ignore",
    stderr: "inherit",
  });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; i < 300; i++) {
    if (await fetch(`${url}/health`).then((r) => r.status < 500, () => false)) return { url, proc };
    await Bun.sleep(50);
  }
  throw new Error(`${script} did not start`);
}

type Row = { scenario: string; target: string; rps: number; p50: number; p975: number; p99: number; errors: number; non2xx: number };
const BARE = { bun: "bare Bun SQL", js: "bare postgres.js" } as const;

function run(url: string, pick: (i: number) => LoadRequest, seconds = duration, conns = connections): Promise<Omit<Row, "scenario" | "target">> {
  return load(url, pick, { connections: conns, seconds }).done;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function table(rows: Row[]) {
  const ratio = (r: Row, target: string) => {
    const base = r.target.startsWith("bare") ? undefined : rows.find((b) => b.target === target && b.scenario === r.scenario)?.rps;
    return base ? (r.rps / base).toFixed(2) : "";
  };
  console.log(`\n| scenario | server | req/s | p50 ms | p97.5 ms | p99 ms | errors | non-2xx | ÷ ${BARE.bun} | ÷ ${BARE.js} |`);
  console.log("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  for (const r of rows)
    console.log(`| ${r.scenario} | ${r.target} | ${r.rps} | ${r.p50} | ${r.p975} | ${r.p99} | ${r.errors} | ${r.non2xx} | ${ratio(r, BARE.bun)} | ${ratio(r, BARE.js)} |`);
}

const tenants = await seed();
const [hot, writes] = [tenants[0]!, tenants[1]!];
const auth = (t: Seeded) => ({ tenant: t.schema, authorization: `Bearer ${t.token}` });
const rnd = (n: number) => 1 + Math.floor(Math.random() * n);

const real = await spawnServer("src/index.ts", { WORKERS: "1", DB_PREPARE: values.prepare! });
const bare = await spawnServer("test/load/bare.ts", { DRIVER: "bun" });
const bareJs = await spawnServer("test/load/bare.ts", { DRIVER: "postgres.js" });
console.log(`server ${real.url} (1 process, DB_PREPARE=${values.prepare}), baselines ${bare.url} (Bun SQL), ${bareJs.url} (postgres.js); ${connections} connections, ${duration} s per run, ${values.rounds} rounds`);

// The hot list's ETag, for its revalidation (304) scenario.
const hotTag = (await fetch(`${real.url}/tasks`, { headers: auth(hot) })).headers.get("etag") ?? "";

// Reads first, then the 1/1,000-tenant spread, then writes: inserts leave autovacuum work behind
// that would otherwise slow whatever is measured next.
const scenarios: { name: string; label: string; pick: (i: number) => LoadRequest; baseline?: boolean; writes?: boolean }[] = [
  { name: "get", label: "GET /tasks (20 rows)", pick: () => ({ path: "/tasks", headers: auth(hot) }), baseline: true },
  { name: "get304", label: "GET /tasks (20 rows), If-None-Match → 304 (counted as non-2xx)", pick: () => ({ path: "/tasks", headers: { ...auth(hot), "if-none-match": hotTag } }) },
  { name: "getOne", label: "GET /tasks/:id", pick: () => ({ path: `/tasks/${rnd(20)}`, headers: auth(hot) }) },
  { name: "post", label: "POST /tasks", writes: true, pick: () => ({ method: "POST", path: "/tasks", headers: auth(writes), body: JSON.stringify({ title: "load test", tags: ["bench"] }) }) },
  { name: "patch", label: "PATCH /tasks/:id", writes: true, pick: () => ({ method: "PATCH", path: `/tasks/${rnd(20)}`, headers: auth(writes), body: JSON.stringify({ completed: Math.random() < 0.5 }) }) },
  { name: "users", label: "GET /users", pick: () => ({ path: "/users", headers: auth(hot) }) },
  {
    name: "mix",
    label: "mix 70% list, 10% get, 10% create, 10% patch",
    writes: true,
    pick: (i) => {
      const t = tenants[2 + (i % Math.min(50, tenants.length - 2))]!;
      const roll = i % 10;
      if (roll < 7) return { path: "/tasks", headers: auth(t) };
      if (roll === 7) return { path: `/tasks/${rnd(20)}`, headers: auth(t) };
      if (roll === 8) return { method: "POST", path: "/tasks", headers: auth(t), body: JSON.stringify({ title: faker.hacker.phrase().slice(0, 100) }) };
      return { method: "PATCH", path: `/tasks/${rnd(20)}`, headers: auth(t), body: JSON.stringify({ completed: true }) };
    },
  },
];

const results: Row[] = [];
const record = (scenario: string, target: string, runs: Omit<Row, "scenario" | "target">[]) => {
  // The median round by throughput, so a noisy round does not decide the ratio.
  const mid = runs.find((r) => r.rps === median(runs.map((x) => x.rps)))!;
  const row = { scenario, target, ...mid, errors: runs.reduce((a, r) => a + r.errors, 0), non2xx: runs.reduce((a, r) => a + r.non2xx, 0) };
  results.push(row);
  return row;
};

try {
  // Warm both servers (JIT, pools, caches).
  await run(real.url, scenarios[0]!.pick, 2);
  await run(bare.url, () => ({ path: "/", headers: { tenant: hot.schema } }), 2);
  await run(bareJs.url, () => ({ path: "/", headers: { tenant: hot.schema } }), 2);

  const measure = async (s: (typeof scenarios)[number]) => {
    const realRuns = [];
    const bareRuns = [];
    const bareJsRuns = [];
    for (let round = 0; round < Number(values.rounds); round++) {
      if (s.baseline) bareRuns.push(await run(bare.url, () => ({ path: "/", headers: { tenant: hot.schema } })));
      realRuns.push(await run(real.url, s.pick));
      if (s.baseline) bareJsRuns.push(await run(bareJs.url, () => ({ path: "/", headers: { tenant: hot.schema } })));
    }
    if (s.baseline) record(s.label, BARE.bun, bareRuns);
    if (s.baseline) record(s.label, BARE.js, bareJsRuns);
    const row = record(s.label, "tenant-todo", realRuns);
    console.log(`${s.label}: ${row.rps} req/s, p99 ${row.p99} ms, non-2xx ${row.non2xx}`);
  };
  for (const s of scenarios.filter((s) => wanted(s.name) && !s.writes)) await measure(s);

  if (wanted("spread")) {
    for (const spread of [1, tenants.length]) {
      const realRuns = [];
      const bareRuns = [];
      // Steady state: every tenant's statements prepared on every connection before measuring.
      await run(bare.url, (i) => ({ path: "/", headers: { tenant: tenants[i % spread]!.schema } }), 4);
      await run(real.url, (i) => ({ path: "/tasks", headers: auth(tenants[i % spread]!) }), 4);
      for (let round = 0; round < Number(values.rounds); round++) {
        bareRuns.push(await run(bare.url, (i) => ({ path: "/", headers: { tenant: tenants[i % spread]!.schema } })));
        realRuns.push(await run(real.url, (i) => ({ path: "/tasks", headers: auth(tenants[i % spread]!) })));
      }
      const label = `GET /tasks over ${spread} tenant${spread > 1 ? "s" : ""}`;
      record(label, BARE.bun, bareRuns);
      const row = record(label, "tenant-todo", realRuns);
      const memory = { "tenant-todo": await postgresMemory(sql, "tenant-todo"), bare: await postgresMemory(sql, "bare-bun") };
      console.log(`${label}: ${row.rps} req/s, p99 ${row.p99} ms; PostgreSQL backends after: ${JSON.stringify(memory)}`);
    }
  }

  for (const s of scenarios.filter((s) => wanted(s.name) && s.writes)) await measure(s);

  if (wanted("workers")) {
    const n = Number(values.workers);
    const multi = await spawnServer("src/index.ts", { WORKERS: String(n) });
    await run(multi.url, scenarios[0]!.pick, 2);
    const runs = [];
    for (let round = 0; round < Number(values.rounds); round++) runs.push(await run(multi.url, scenarios[0]!.pick));
    const row = record(`${scenarios[0]!.label}, WORKERS=${n}`, `tenant-todo ×${n}`, runs);
    console.log(`WORKERS=${n}: ${row.rps} req/s, p99 ${row.p99} ms`);
    multi.proc.kill("SIGTERM");
    await multi.proc.exited;
  }

  if (values.soak) await soak(Number(values.soak));
  table(results);
} finally {
  for (const server of [real, bare, bareJs]) server.proc.kill("SIGTERM");
  await Promise.all([real.proc.exited, bare.proc.exited, bareJs.proc.exited]);
  await sql.close();
  await scratch.drop();
  await host.close();
}

/** 256 connections of the mix for `seconds`: errors, p99, and the server's RSS after warm-up vs at the end. */
async function soak(seconds: number) {
  const rss = async () => Number(/VmRSS:\s+(\d+)/.exec(await Bun.file(`/proc/${real.proc.pid}/status`).text())?.[1] ?? 0) / 1024;
  const mix = scenarios.find((s) => s.name === "mix")!;
  await run(real.url, mix.pick, 10, 256);
  const samples: number[] = [await rss()];
  const timer = setInterval(async () => samples.push(await rss()), 5000);
  const r = await run(real.url, mix.pick, seconds, 256);
  clearInterval(timer);
  samples.push(await rss());
  results.push({ scenario: `soak ${seconds} s, 256 connections, mix`, target: "tenant-todo", ...r });
  console.log(
    `soak: ${r.rps} req/s, p99 ${r.p99} ms, errors ${r.errors}, non-2xx ${r.non2xx}; server RSS after warm-up ${samples[0]!.toFixed(0)} MiB, ` +
      `max ${Math.max(...samples).toFixed(0)} MiB, end ${samples.at(-1)!.toFixed(0)} MiB`,
  );
}
