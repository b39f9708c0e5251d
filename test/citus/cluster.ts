// A throwaway Citus cluster from ../shared/citus: a coordinator and two workers on free ports in a
// temporary folder. For the Citus suite and the Citus benchmark.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { $ } from "bun";
import { freePort } from "../../src/db/embedded";

const script = resolve(import.meta.dir, "../../../shared/citus/cluster");

/** A port p with p, p+1 and p+2 all free (the coordinator and the two workers). */
async function threeFreePorts(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port > 65000) continue;
    const taken = await Promise.all([1, 2].map((n) => Bun.connect({ hostname: "127.0.0.1", port: port + n, socket: { data() {} } }).then((s) => (s.end(), true), () => false)));
    if (!taken.some(Boolean)) return port;
  }
}

/**
 * Up, on ports free a moment ago: another process may take one before the nodes bind it, so a
 * failed start stops whatever nodes did start, and tries other ports (three times in all).
 */
export async function startCluster(): Promise<{ url: string; down(): Promise<void> }> {
  if (!existsSync(script)) throw new Error(`${script} not found: this needs ../shared/citus beside the checkout (and ../shared/citus/install run once)`);
  for (let attempt = 1; ; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), "tenant-todo-citus-"));
    rmSync(dir, { recursive: true }); // the cluster script makes it, owned by the postgres user
    const down = () => $`${script} down ${dir}`.quiet().nothrow().then(() => {});
    const up = await $`${script} up ${dir} ${await threeFreePorts()}`.quiet().nothrow();
    if (up.exitCode === 0) return { url: up.text().trim().split("\n").at(-1)!, down };
    await down();
    if (attempt === 3) throw new Error(`the Citus cluster did not start: ${up.stderr.toString().trim()}`);
  }
}
