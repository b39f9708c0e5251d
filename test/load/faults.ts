// `bun run faults`: the service against real faults, on a PostgreSQL of its own (the embedded
// binaries in a temporary folder, dropped afterwards), so restarting and stopping it disturbs
// nothing else. Under load from in-process loops it: restarts PostgreSQL, stops it for 10 s, locks
// one tenant's tasks table from outside for 20 s, and sends a 1 MB nested body. Prints a table;
// exits 1 only past generous bounds (the targets are in the README).
// Usage: bun run faults [--lock 20] [--stop 10] [--clients 24]
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { SQL } from "bun";
import { loadConfig } from "../../src/config";
import { connect } from "../../src/db/client";
import { startEmbedded } from "../../src/db/embedded";
import { migratePublic } from "../../src/migrator/migrator";
import { loadSource } from "../../src/migrator/source";
import { createWithAdmin } from "../../src/services/auth";
import { populate } from "../../src/services/seed";
import { hashPassword } from "../../src/services/passwords";
import { freePort, percentile } from "./support";

const { values } = parseArgs({ options: { lock: { type: "string", default: "20" }, stop: { type: "string", default: "10" }, clients: { type: "string", default: "24" } } });
const root = join(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "tenant-todo-faults-"));
chmodSync(dir, 0o755); // as root, PostgreSQL runs as the postgres user
const pg = await startEmbedded(dir);
let server: Bun.Subprocess | undefined;
let failed = false;
const rows: [string, string, string][] = [];
const report = (what: string, value: string, bound: string, ok: boolean) => {
  rows.push([what, value, `${bound}${ok ? "" : " — FAILED"}`]);
  failed ||= !ok;
};

type Sample = { kind: string; start: number; end: number; status: number; code?: string };
const samples: Sample[] = [];
const now = () => performance.now();
let running = true;

async function loop(kind: string, url: string, headers: Record<string, string>) {
  while (running) {
    const start = now();
    const [status, code] = await fetch(url, { headers, signal: AbortSignal.timeout(60_000) }).then(
      async (r) => [r.status, r.ok ? undefined : ((await r.json().catch(() => ({}))) as { error?: { code?: string } }).error?.code] as const,
      () => [0, "network"] as const,
    );
    if (r_ok(status)) samples.push({ kind, start, end: now(), status });
    else samples.push({ kind, start, end: now(), status, code });
    if (status !== 200) await Bun.sleep(20); // a client backing off, not a busy loop on errors
  }
}

function r_ok(status: number) {
  return status === 200;
}
const window = (kind: string, from: number, to: number) => samples.filter((s) => s.kind === kind && s.start >= from && s.start < to);
const ms = (xs: number[]) => Math.round(Math.max(0, ...xs));
const p99 = (xs: Sample[]) => Math.round(percentile(xs.map((s) => s.end - s.start).sort((a, b) => a - b), 99));
const statuses = (xs: Sample[]) =>
  Object.entries(xs.reduce<Record<string, number>>((c, s) => ((c[`${s.status || "err"}${s.code ? ` ${s.code}` : ""}`] = (c[`${s.status || "err"}${s.code ? ` ${s.code}` : ""}`] ?? 0) + 1), c), {}))
    .map(([k, n]) => `${n}×${k}`)
    .join(" ");

try {
  // Tenants with data, made directly (no rate limit, no HTTP).
  const config = loadConfig({ DATABASE_URL: pg.url });
  const sql = connect(pg.url, config, { max: 2, name: "faults" });
  const source = loadSource();
  await migratePublic(sql, source);
  const hash = await hashPassword("fault suite password");
  const tenants: { schema: string; headers: Record<string, string> }[] = [];
  for (let i = 0; i < 8; i++) {
    const made = await createWithAdmin(sql, source.tenant, { name: `Fault ${i}` }, { email: `admin${i}@faults.test`, password: "fault suite password", first_name: "F", last_name: "S" }, 24);
    await populate(sql, made.tenant, made.user.id, { users: 2, tasks: 20, passwordHash: hash });
    tenants.push({ schema: made.tenant.schema, headers: { tenant: made.tenant.schema, authorization: `Bearer ${made.token}` } });
  }
  await sql.close();

  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  server = Bun.spawn(["bun", "src/index.ts"], { cwd: root, env: { ...process.env, DATABASE_URL: pg.url, PORT: String(port), HOST: "127.0.0.1", LOG_LEVEL: "error" }, stdout: "inherit", stderr: "inherit" });
  for (let i = 0; i < 200 && !(await fetch(`${base}/health/db`).then((r) => r.ok, () => false)); i++) await Bun.sleep(50);
  const settings = { lock: loadConfig(process.env).dbLockTimeoutMs, acquire: loadConfig(process.env).dbAcquireTimeoutMs };
  const [locked, ...others] = tenants;
  const clients = Number(values.clients);
  const loops = [
    ...Array.from({ length: clients }, (_, i) => loop("tasks", `${base}/tasks`, others[i % others.length]!.headers)),
    loop("health", `${base}/health/db`, {}),
  ];
  await Bun.sleep(2000); // warm

  // 1. Restart under load.
  const restartAt = now();
  const restarted = pg.pgCtl("restart", "-m", "fast", "-w", "-t", "30");
  const backAt = now();
  if (!restarted.ok) throw new Error(`pg_ctl restart: ${restarted.output}`);
  await Bun.sleep(4000);
  const firstOk = samples.find((s) => s.kind === "tasks" && s.status === 200 && s.start >= backAt);
  const outage = window("tasks", restartAt, backAt + 4000);
  report("restart: serving again after PostgreSQL is back", `${firstOk ? Math.round(firstOk.end - backAt) : "never"} ms`, "≤ 2000 ms (fails past 5000)", !!firstOk && firstOk.end - backAt <= 5000);
  report("restart: answers during the outage", statuses(outage), "no 500", !outage.some((s) => s.status === 500));
  report("restart: slowest /health/db", `${ms(window("health", restartAt, backAt + 4000).map((s) => s.end - s.start))} ms`, "≤ 2000 ms (fails past 2500)", ms(window("health", restartAt, backAt + 4000).map((s) => s.end - s.start)) <= 2500);

  // 2. Stopped for 10 s.
  const stopS = Number(values.stop);
  const stopAt = now();
  const stopped = pg.pgCtl("stop", "-m", "fast", "-w", "-t", "30");
  if (!stopped.ok) throw new Error(`pg_ctl stop: ${stopped.output}`);
  await Bun.sleep(stopS * 1000);
  const started = pg.pgCtl("start", "-w", "-t", "30", "-l", join(dir, "pg", "server.log"), "-o", `-p ${new URL(pg.url).port}`);
  const upAt = now();
  if (!started.ok) throw new Error(`pg_ctl start: ${started.output}`);
  await Bun.sleep(4000);
  const upOk = samples.find((s) => s.kind === "tasks" && s.status === 200 && s.start >= upAt);
  const down = window("tasks", stopAt, upAt + 4000);
  const downHealth = window("health", stopAt, upAt + 4000).map((s) => s.end - s.start);
  report(`stop ${stopS} s: serving again after PostgreSQL is back`, `${upOk ? Math.round(upOk.end - upAt) : "never"} ms`, "≤ 2000 ms (fails past 5000)", !!upOk && upOk.end - upAt <= 5000);
  report(`stop ${stopS} s: answers while it was down`, statuses(down), "no 500", !down.some((s) => s.status === 500));
  report(`stop ${stopS} s: slowest answer while down`, `${ms(window("tasks", stopAt, upAt).map((s) => s.end - s.start))} ms`, "503 at once, no hang (fails past 2500)", ms(window("tasks", stopAt, upAt).map((s) => s.end - s.start)) <= 2500);
  report(`stop ${stopS} s: slowest /health/db`, `${ms(downHealth)} ms`, "≤ 2000 ms (fails past 2500)", ms(downHealth) <= 2500);

  // 3. One tenant's tasks table locked from outside; its own clients keep asking.
  const lockS = Number(values.lock);
  const outside = new SQL(pg.url, { max: 1 });
  const holder = await outside.reserve();
  await holder`begin`;
  await holder.unsafe(`lock table "${locked!.schema}".tasks in access exclusive mode`);
  const lockAt = now();
  const lockedLoops = Array.from({ length: 4 }, () => loop("locked", `${base}/tasks`, locked!.headers));
  await Bun.sleep(lockS * 1000);
  await holder`rollback`;
  holder.release();
  await outside.close();
  const releasedAt = now();
  await Bun.sleep(1500);
  const during = window("tasks", lockAt, releasedAt);
  const mine = window("locked", lockAt, releasedAt);
  const lockHealth = window("health", lockAt, releasedAt).map((s) => s.end - s.start);
  report(`locked ${lockS} s: other tenants' p99`, `${p99(during)} ms over ${during.length} requests`, "≤ 500 ms (fails past 1000)", p99(during) <= 1000);
  report(`locked ${lockS} s: other tenants' errors`, statuses(during), "all 200", during.every((s) => s.status === 200));
  report(`locked ${lockS} s: slowest /health/db`, `${ms(lockHealth)} ms, ${statuses(window("health", lockAt, releasedAt))}`, "200, ≤ 2000 ms", ms(lockHealth) <= 2500 && window("health", lockAt, releasedAt).every((s) => s.status === 200));
  report(
    `locked ${lockS} s: the locked tenant's own requests`,
    `${statuses(mine)}; slowest ${ms(mine.map((s) => s.end - s.start))} ms`,
    `503 within the lock timeout (${settings.lock} ms; acquire ${settings.acquire} ms)`,
    mine.every((s) => s.status === 503 || s.status === 200) && ms(mine.map((s) => s.end - s.start)) <= settings.lock + settings.acquire + 1000,
  );
  const after = samples.find((s) => s.kind === "locked" && s.status === 200 && s.start >= releasedAt);
  report("locked: the tenant serves again once released", after ? `${Math.round(after.end - releasedAt)} ms` : "never", "yes", !!after);

  // 4. A 1 MB nested body from an anonymous client, while /health is asked.
  const hostileAt = now();
  const body = "[".repeat(512 * 1024) + "]".repeat(512 * 1024);
  const t0 = now();
  const refused = await fetch(`${base}/auth/register`, { method: "POST", headers: { "content-type": "application/json" }, body });
  const refusedMs = now() - t0;
  await Bun.sleep(200);
  report("hostile 1 MB nested body: refused in", `${Math.round(refusedMs)} ms (${refused.status})`, "milliseconds, 400 (fails past 1000 ms)", refused.status === 400 && refusedMs <= 1000);
  report("hostile body: slowest /health/db meanwhile", `${ms(window("health", hostileAt, now()).map((s) => s.end - s.start))} ms`, "fast (fails past 1000 ms)", ms(window("health", hostileAt, now()).map((s) => s.end - s.start)) <= 1000);

  running = false;
  await Promise.all([...loops, ...lockedLoops]);
  console.log("\n| fault | measured | target |\n| --- | --- | --- |");
  for (const [what, value, bound] of rows) console.log(`| ${what} | ${value} | ${bound} |`);
  console.log(`\n(${samples.length} requests; settings: DB_LOCK_TIMEOUT_MS=${settings.lock}, DB_ACQUIRE_TIMEOUT_MS=${settings.acquire}, ${clients} clients)`);
} finally {
  running = false;
  server?.kill("SIGTERM");
  await server?.exited;
  await pg.stop();
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
