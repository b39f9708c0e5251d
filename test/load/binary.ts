// The compiled binary as a container runs it: alone in an empty directory against DATABASE_URL.
// Start-up time to /health, a tenant registered through it, `migrate status --all` with it, and
// SIGTERM under load: every request the server accepted gets its answer. Exits 1 on any failure.
// Usage: DATABASE_URL=… bun test/load/binary.ts [dist/tenant-todo]
import { copyFileSync, mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { freePort } from "./support";

const source = resolve(process.argv[2] ?? "dist/tenant-todo");
const dir = mkdtempSync(join(tmpdir(), "tenant-todo-binary-"));
const binary = join(dir, "tenant-todo");
copyFileSync(source, binary);
const env = { PATH: "/usr/bin:/bin", DATABASE_URL: process.env.DATABASE_URL!, LOG_LEVEL: "warn", ADMIN_TOKEN: "binary-check-admin-token" };
let failed = false;
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  failed ||= !ok;
};

async function start(port: number) {
  const t0 = performance.now();
  const proc = Bun.spawn([binary], { cwd: dir, env: { ...env, PORT: String(port), HOST: "127.0.0.1" }, stdout: "inherit", stderr: "inherit" });
  while (performance.now() - t0 < 15_000) {
    if (await fetch(`http://127.0.0.1:${port}/health`).then((r) => r.ok, () => false)) return { proc, ms: Math.round(performance.now() - t0) };
    await Bun.sleep(10);
  }
  throw new Error("the binary did not answer /health within 15 s");
}

try {
  if (!process.env.DATABASE_URL) throw new Error("set DATABASE_URL: the binary has no embedded PostgreSQL");
  console.log(`binary: ${(statSync(binary).size / 1024 / 1024).toFixed(1)} MiB, alone in ${dir}`);
  const port = await freePort();
  const { proc, ms } = await start(port);
  check(true, `started; /health answered after ${ms} ms`);
  const base = `http://127.0.0.1:${port}`;

  const email = `binary.${crypto.randomUUID().slice(0, 8)}@check.test`;
  const reg = await fetch(`${base}/auth/register`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ company_name: "Binary Check", email, password: "binary password", first_name: "B", last_name: "C" }),
  });
  const signedIn = (await reg.json()) as { token: string; tenant: { schema: string } };
  check(reg.status === 201, `registered tenant ${signedIn.tenant?.schema} through the binary`);
  const headers = { tenant: signedIn.tenant.schema, authorization: `Bearer ${signedIn.token}`, "content-type": "application/json" };
  check((await fetch(`${base}/tasks`, { method: "POST", headers, body: JSON.stringify({ title: "from the binary" }) })).status === 201, "created a task");

  // The docs come from inside the binary too: page, document and Swagger UI's assets.
  const docs = await Promise.all(
    ["/swagger", "/swagger/json", "/swagger/assets/swagger-ui-bundle.js", "/swagger/assets/swagger-ui.css"].map(async (path) => {
      const r = await fetch(`${base}${path}`);
      return { path, status: r.status, bytes: (await r.arrayBuffer()).byteLength };
    }),
  );
  check(docs.every((d) => d.status === 200 && d.bytes > 1000), `serves the docs: ${docs.map((d) => `${d.path} ${d.status} ${d.bytes} B`).join(", ")}`);

  const status = Bun.spawnSync([binary, "migrate", "status", "--all", "--json"], { cwd: dir, env });
  const report = JSON.parse(status.stdout.toString() || "{}") as { tenants?: { schema: string; pending: string[] }[] };
  check(status.exitCode === 0 && Boolean(report.tenants?.some((t) => t.schema === signedIn.tenant.schema && t.pending.length === 0)), "`tenant-todo migrate status --all` lists it at head");
  check(Bun.spawnSync([binary, "healthcheck"], { cwd: dir, env: { ...env, PORT: String(port) } }).exitCode === 0, "`tenant-todo healthcheck` exits 0");
  const runs = Bun.spawnSync([binary, "migrate", "runs", "--json"], { cwd: dir, env });
  check(runs.exitCode === 0 && Array.isArray(JSON.parse(runs.stdout.toString() || "null")), "`tenant-todo migrate runs --json` lists the recorded runs");
  const lint = Bun.spawnSync([binary, "migrate", "lint"], { cwd: dir, env });
  check(lint.exitCode === 1 && lint.stderr.toString().includes("source checkout"), "`tenant-todo migrate lint` says it needs squawk (a source checkout), exit 1");

  // SIGTERM under load: 32 clients loop on GET /tasks; after the signal, requests must either
  // complete with 200 or be refused before the server took them (a new connection refused).
  const outcomes = { ok: 0, failedResponse: 0, refused: 0, reset: 0 };
  let stopAt = 0;
  const client = async () => {
    while (true) {
      try {
        const r = await fetch(`${base}/tasks`, { headers });
        await r.arrayBuffer();
        if (r.status === 200) outcomes.ok++;
        else outcomes.failedResponse++;
      } catch (e) {
        const code = (e as { code?: string }).code ?? String(e);
        if (/ConnectionRefused|ECONNREFUSED/.test(code)) {
          outcomes.refused++;
          return;
        }
        outcomes.reset++;
        if (stopAt && performance.now() - stopAt > 2000) return;
      }
    }
  };
  const clients = Array.from({ length: 32 }, client);
  await Bun.sleep(1500);
  stopAt = performance.now();
  proc.kill("SIGTERM");
  const code = await proc.exited;
  const stopMs = Math.round(performance.now() - stopAt);
  await Promise.all(clients);
  console.log(`under load: ${outcomes.ok} answered 200, ${outcomes.failedResponse} non-200, ${outcomes.reset} dropped mid-request, ${outcomes.refused} refused after the stop`);
  check(code === 0, `SIGTERM → exit ${code} after ${stopMs} ms`);
  check(outcomes.failedResponse === 0 && outcomes.reset === 0, "no in-flight request failed during shutdown");
  const drop = Bun.spawnSync([binary, "tenant", "drop", signedIn.tenant.schema, "--yes"], { cwd: dir, env });
  check(drop.exitCode === 0, "`tenant-todo tenant drop` removed it again");
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
