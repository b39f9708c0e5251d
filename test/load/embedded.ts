// The embedded default as an operator meets it: first start (initdb), restart, recovery after the
// server is SIGKILLed (PostgreSQL orphaned), and a SIGTERM that leaves no PostgreSQL behind.
// Prints the times; exits 1 if any check fails. Usage: bun test/load/embedded.ts [checkout]
import { readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { freePort } from "./support";

const dir = resolve(process.argv[2] ?? ".");
const dataDir = join(dir, ".data");
const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !["DATABASE_URL", "DB_HOST"].includes(k))) as Record<string, string>;

function postgresProcesses(): number {
  let n = 0;
  for (const pid of readdirSync("/proc").filter((p) => /^\d+$/.test(p))) {
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(join(dataDir, "pg"))) n++;
    } catch {}
  }
  return n;
}

function check(ok: boolean, what: string) {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) process.exitCode = 1;
}

async function start(label: string) {
  const port = await freePort();
  const started = performance.now();
  const proc = Bun.spawn(["bun", "src/index.ts"], { cwd: dir, env: { ...env, PORT: String(port), LOG_LEVEL: "warn" }, stdout: "inherit", stderr: "inherit" });
  while (performance.now() - started < 30_000) {
    const ready = await fetch(`http://127.0.0.1:${port}/health/db`).then((r) => r.status === 200, () => false);
    if (ready) {
      const ms = Math.round(performance.now() - started);
      check(true, `${label}: /health/db answered 200 after ${ms} ms`);
      return { proc, ms, url: `http://127.0.0.1:${port}` };
    }
    if (proc.exitCode !== null) break;
    await Bun.sleep(50);
  }
  check(false, `${label}: /health/db did not answer within 30 s`);
  proc.kill("SIGKILL");
  process.exit(1);
}

async function stop(proc: Bun.Subprocess, label: string) {
  proc.kill("SIGTERM");
  const code = await proc.exited;
  check(code === 0, `${label}: SIGTERM → exit ${code}`);
  check(postgresProcesses() === 0, `${label}: no PostgreSQL process left (${postgresProcesses()})`);
}

rmSync(dataDir, { recursive: true, force: true });
const first = await start("first start (initdb)");
await stop(first.proc, "first start");
const again = await start("restart");
const adopted: number[] = [];
let orphan = again.proc;
for (let round = 1; round <= 3; round++) {
  orphan.kill("SIGKILL");
  await orphan.exited;
  check(postgresProcesses() > 0, `round ${round}: after kill -9 of the server, PostgreSQL is orphaned (as in a crash)`);
  const recovered = await start(`round ${round}: start after kill -9 (adopts the cluster)`);
  adopted.push(recovered.ms);
  if (round < 3) orphan = recovered.proc;
  else await stop(recovered.proc, `round ${round}: after recovery`);
}
// Two servers on one cluster: the first to stop leaves it to the other; the last one stops it.
const one = await start("two servers: first");
const two = await start("two servers: second");
one.proc.kill("SIGTERM");
check((await one.proc.exited) === 0, "two servers: the first exits 0 on SIGTERM");
check(await fetch(`${two.url}/health/db`).then((r) => r.status === 200, () => false), "two servers: the second still serves (PostgreSQL kept running)");
await stop(two.proc, "two servers: the second");
console.log(`\nembedded default: first start ${first.ms} ms, restart ${again.ms} ms, start after kill -9 ${adopted.join(" / ")} ms`);
