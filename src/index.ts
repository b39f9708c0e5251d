// Entry: serve the API, or run a CLI verb (`migrate`, `tenant`, `seed`) — the same in the compiled binary.
import { createApp } from "./app";
import { runCli, USAGE } from "./cli";
import { ConfigError, loadConfig } from "./config";
import { openDatabase } from "./db/client";
import { createLogger } from "./log";
import { loadSource, migratePublic } from "./migrator/migrator";

export { createApp };

export async function serve() {
  const config = loadConfig();
  const log = createLogger(config.logLevel);
  const source = loadSource(config.sqlDir);
  const started = performance.now();
  const db = await openDatabase(config);
  await migratePublic(db.sql, source);
  const app = createApp({ config, sql: db.sql, source, log }).listen({ port: config.port, hostname: config.host });
  log.info("listening", {
    url: `http://${config.host}:${app.server!.port}`,
    database: db.embedded ? "embedded (.data/)" : "DATABASE_URL",
    ms: Math.round(performance.now() - started),
  });
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info("stopping", { signal });
    await app.stop(); // finishes in-flight requests
    await db.close();
    process.exit(0);
  };
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  return app;
}

if (import.meta.main) {
  const [command] = process.argv.slice(2);
  try {
    if (command === "--help" || command === "-h" || command === "help") console.log(USAGE);
    else if (command) process.exitCode = await runCli(process.argv.slice(2), loadConfig());
    else await serve();
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}`);
    if (!(error instanceof ConfigError)) console.error("(set DATABASE_URL, or see README › Configuration)");
    process.exit(1);
  }
}
