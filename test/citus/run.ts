// `bun run test:citus`: a real Citus cluster (a coordinator and two workers, from ../shared/citus)
// on free ports in a temporary folder, the API and control suites run through its coordinator,
// then the Citus suite (placement, moves, rebalance); the cluster is removed at the end.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { $ } from "bun";
import { freePort } from "../../src/db/embedded";

const root = resolve(import.meta.dir, "../..");
const cluster = resolve(root, "../shared/citus/cluster");
if (!existsSync(cluster)) throw new Error(`${cluster} not found: the Citus suite needs ../shared/citus beside the checkout`);

/** A port p with p, p+1 and p+2 all free (the coordinator and the two workers). */
async function threeFreePorts(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port > 65000) continue;
    const taken = await Promise.all([1, 2].map((n) => Bun.connect({ hostname: "127.0.0.1", port: port + n, socket: { data() {} } }).then((s) => (s.end(), true), () => false)));
    if (!taken.some(Boolean)) return port;
  }
}

const dir = mkdtempSync(join(tmpdir(), "tenant-todo-citus-"));
rmSync(dir, { recursive: true }); // the cluster script creates it, owned by postgres
const port = await threeFreePorts();
const url = (await $`${cluster} up ${dir} ${port}`.text()).trim().split("\n").at(-1)!;
console.log(`Citus cluster: coordinator ${url}, workers on ${port + 1} and ${port + 2}`);
let code = 1;
try {
  // Tenant creation through the coordinator takes ~100 ms (5× plain PostgreSQL): a longer per-test timeout.
  const tests = Bun.spawn(["bun", "test", "--timeout", "60000", "--path-ignore-patterns", "test/unit/**", "test/integration", "test/citus", ...process.argv.slice(2)], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url },
    stdout: "inherit",
    stderr: "inherit",
  });
  code = await tests.exited;
} finally {
  await $`${cluster} down ${dir}`.quiet().nothrow();
}
process.exit(code);
