// Serving: one process, or (WORKERS > 1) a supervisor with one worker process per core sharing the
// port through SO_REUSEPORT. Either way SIGTERM/SIGINT drain in-flight requests, then close the pool.
import type { Subprocess } from "bun";
import { createApp } from "./app";
import { COMPILED, type Config } from "./config";
import { openDatabase, type Database } from "./db/client";
import { createLogger, type Logger } from "./log";
import { migratePublic } from "./migrator/migrator";
import { loadSource } from "./migrator/source";
import { haltAll } from "./services/run-driver";

/** How to start this program again: `bun src/index.ts`, or the compiled binary itself. */
function self(): string[] {
  return COMPILED ? [process.execPath] : [process.execPath, process.argv[1]!];
}

function onStop(log: Logger, stop: () => Promise<void>) {
  let stopping = false;
  const handler = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    await stop();
    process.exit(0);
  };
  process.on("SIGINT", handler);
  process.on("SIGTERM", handler);
  return () => stopping;
}

export async function serve(config: Config) {
  const log = createLogger(config.logLevel);
  const started = performance.now();
  const source = loadSource(config.sqlDir);
  const db = await openDatabase(config, {
    waitS: config.dbStartupWaitS,
    onRetry: (attempt, cause) => log.warn("waiting for the database", { attempt, cause, gives_up_after_s: config.dbStartupWaitS }),
  });
  await migratePublic(db.sql, source); // every start; the advisory lock makes concurrent starts safe
  if (config.workers > 1) return supervise(config, db, log);

  const app = createApp({ config, db, source, log }).listen({ port: config.port, hostname: config.host, reusePort: config.worker });
  log.info("listening", {
    url: `http://${config.host}:${app.server!.port}`,
    database: db.embedded ? "embedded (.data/)" : "DATABASE_URL",
    pid: process.pid,
    ms: Math.round(performance.now() - started),
  });
  onStop(log, async () => {
    // Fleet runs driven here halt after their tenants in flight (resumable), so requests waiting on
    // them end too; in-flight requests get up to 10 s (every database wait is bounded below that).
    const halted = haltAll(`the server stopped (pid ${process.pid}); resume the run`, 10_000);
    await Promise.race([app.stop(), Bun.sleep(10_000).then(() => app.stop(true))]);
    await halted;
    await db.close();
  });
  return app;
}

function supervise(config: Config, db: Database, log: Logger) {
  const workers = new Set<Subprocess>();
  const stopping = onStop(log, async () => {
    for (const worker of workers) worker.kill("SIGTERM");
    await Promise.all([...workers].map((w) => w.exited));
    await db.close();
  });
  const start = () => {
    const worker = Bun.spawn(self(), {
      env: { ...process.env, DATABASE_URL: db.url, WORKERS: "1", TENANT_TODO_WORKER: "1" },
      stdout: "inherit",
      stderr: "inherit",
    });
    workers.add(worker);
    worker.exited.then((code) => {
      workers.delete(worker);
      if (stopping()) return;
      log.error("worker exited; starting another", { pid: worker.pid, code });
      setTimeout(start, 1000);
    });
  };
  for (let i = 0; i < config.workers; i++) start();
  log.info("supervising", { workers: config.workers, port: config.port, pid: process.pid });
}
