// `bun run test:citus`: a real Citus cluster (../shared/citus) on free ports, the API and control
// suites run through its coordinator, then the Citus suite (placement, moves, rebalance); the
// cluster is removed at the end.
import { resolve } from "node:path";
import { startCluster } from "./cluster";

const cluster = await startCluster();
console.log(`Citus cluster: coordinator ${cluster.url}`);
let code = 1;
try {
  // Tenant creation through the coordinator takes ~100 ms (5× plain PostgreSQL): a longer per-test timeout.
  const tests = Bun.spawn(["bun", "test", "--timeout", "60000", "--path-ignore-patterns", "test/unit/**", "test/integration", "test/citus", ...process.argv.slice(2)], {
    cwd: resolve(import.meta.dir, "../.."),
    env: { ...process.env, DATABASE_URL: cluster.url },
    stdout: "inherit",
    stderr: "inherit",
  });
  code = await tests.exited;
} finally {
  await cluster.down();
}
process.exit(code);
