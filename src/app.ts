// Composition: logs and metrics → CORS → errors → input checks → docs → health → auth → users → tasks → control API and its runs.
import { Elysia } from "elysia";
import type { Config } from "./config";
import type { Database } from "./db/client";
import { authRoutes } from "./http/auth";
import { ccRoutes } from "./http/cc";
import { cors } from "./http/cors";
import { docs } from "./http/docs";
import { errors } from "./http/errors";
import { healthRoutes } from "./http/health";
import { inputs } from "./http/inputs";
import { Metrics, observe } from "./http/observe";
import { runRoutes } from "./http/runs";
import { taskRoutes } from "./http/tasks";
import { userRoutes } from "./http/users";
import { createLogger, type Logger } from "./log";
import type { Source } from "./migrator/source";
import { AuthCache } from "./services/cache";
import { TenantThrottle } from "./services/limits";

export type Deps = {
  config: Config;
  db: Database;
  source: Source;
  cache: AuthCache;
  log: Logger;
  metrics: Metrics;
  /** TENANT_RATE, when set: this instance's count of each tenant's requests. */
  throttle?: TenantThrottle;
};

export function createApp(deps: Omit<Deps, "cache" | "log" | "metrics"> & Partial<Pick<Deps, "cache" | "log" | "metrics">>) {
  const all: Deps = {
    cache: new AuthCache(deps.config.authCacheSeconds),
    log: createLogger(deps.config.logLevel),
    metrics: new Metrics(),
    throttle: deps.config.rate.tenant ? new TenantThrottle(deps.config.rate.tenant) : undefined,
    ...deps,
  };
  return new Elysia({ normalize: false, serve: { maxRequestBodySize: all.config.bodyLimit + 64 * 1024 } })
    .use(observe(all))
    .use(cors(all.config))
    .use(errors(all.log, all.config.bodyLimit))
    .use(inputs)
    .use(docs)
    .use(healthRoutes(all))
    .use(authRoutes(all))
    .use(userRoutes(all))
    .use(taskRoutes(all))
    .use(ccRoutes(all))
    .use(runRoutes(all));
}

/** The API's type, for the typed client: `treaty<App>(url, { headers: { tenant, authorization } })` (README › Typed client). */
export type App = ReturnType<typeof createApp>;
