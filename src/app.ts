// Composition: logs and metrics → CORS → errors → input checks → docs → health → auth → users → tasks → control API and its runs.
import { swagger } from "@elysiajs/swagger";
import { Elysia, t } from "elysia";
import type { Config } from "./config";
import type { Database } from "./db/client";
import { authRoutes } from "./http/auth";
import { ccRoutes } from "./http/cc";
import { cors } from "./http/cors";
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

const ErrorBody = t.Object({
  error: t.Object({ code: t.String(), message: t.String(), details: t.Optional(t.Unknown()) }),
});

const docs = swagger({
  path: "/swagger",
  exclude: ["/swagger", "/swagger/json"],
  documentation: {
    info: {
      title: "tenant-todo",
      version: "0.1.0",
      description:
        "A multi-tenant TODO API: each company is a PostgreSQL schema. Tenant routes need the `tenant` header (the schema; " +
        "or a Host registered to the tenant) and `Authorization: Bearer <token>`. Every error is " +
        '`{ "error": { "code", "message", "details"? } }`: 400 malformed header or body, 401 missing/invalid/expired/revoked ' +
        "token (also a token of another tenant), 403 role, suspended tenant, closed registration or a quota reached, " +
        "404 unknown tenant or id, 409 conflict, 413 body too large, 422 validation (details name the fields), " +
        "429 over a rate limit (with Retry-After and the RateLimit-Policy / RateLimit headers).",
    },
    tags: [
      { name: "auth", description: "Register a company, sign in and out" },
      { name: "tasks", description: "The TODO core (Todo-Backend compatible)" },
      { name: "users", description: "A tenant's users; admins manage them" },
      { name: "control", description: "Operators: tenants and migrations (bearer ADMIN_TOKEN)" },
      { name: "health", description: "Liveness and readiness" },
    ],
    components: {
      securitySchemes: {
        tenant: { type: "apiKey", in: "header", name: "tenant", description: "The tenant's schema name" },
        bearer: { type: "http", scheme: "bearer", description: "A token from /auth/register or /auth/login" },
        admin: { type: "http", scheme: "bearer", description: "ADMIN_TOKEN, for /cc" },
      },
      schemas: { Error: ErrorBody },
      responses: Object.fromEntries(
        [400, 401, 403, 404, 409, 413, 422, 429, 503].map((code) => [
          String(code),
          { description: "Error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
        ]),
      ),
    },
  },
});

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
