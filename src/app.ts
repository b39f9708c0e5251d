// Composition: logs and metrics → CORS → errors → docs → health → auth → users → tasks → control API.
import { Elysia } from "elysia";
import type { Config } from "./config";
import type { Database } from "./db/client";
import { authRoutes } from "./http/auth";
import { ccRoutes } from "./http/cc";
import { cors } from "./http/cors";
import { docs } from "./http/docs";
import { errors } from "./http/errors";
import { healthRoutes } from "./http/health";
import { Metrics, observe } from "./http/observe";
import { taskRoutes } from "./http/tasks";
import { userRoutes } from "./http/users";
import { createLogger, type Logger } from "./log";
import type { Source } from "./migrator/source";
import { AuthCache } from "./services/cache";

export type Deps = { config: Config; db: Database; source: Source; cache: AuthCache; log: Logger; metrics: Metrics };

export function createApp(deps: Omit<Deps, "cache" | "log" | "metrics"> & Partial<Pick<Deps, "cache" | "log" | "metrics">>) {
  const all: Deps = {
    cache: new AuthCache(deps.config.authCacheSeconds),
    log: createLogger(deps.config.logLevel),
    metrics: new Metrics(),
    ...deps,
  };
  return new Elysia({ normalize: false, serve: { maxRequestBodySize: all.config.bodyLimit + 64 * 1024 } })
    .use(observe(all))
    .use(cors(all.config))
    .use(errors(all.log, all.config.bodyLimit))
    .use(docs)
    .use(healthRoutes(all))
    .use(authRoutes(all))
    .use(userRoutes(all))
    .use(taskRoutes(all))
    .use(ccRoutes(all));
}

/** The API's type, for the typed client: `treaty<App>(url, { headers: { tenant, authorization } })` (README › Typed client). */
export type App = ReturnType<typeof createApp>;
