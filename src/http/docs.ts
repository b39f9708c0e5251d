// The API's documentation, served entirely by this process: the OpenAPI 3.1 document at
// /swagger/json, Swagger UI at /swagger, and Swagger UI's script and stylesheet from the pinned
// swagger-ui-dist package (embedded in the compiled binary by the `type: "file"` imports), so the
// page renders with no request leaving the service.
import { openapi } from "@elysiajs/openapi";
import { Elysia, t } from "elysia";
import bundle from "swagger-ui-dist/swagger-ui-bundle.js" with { type: "file" };
import stylesheet from "swagger-ui-dist/swagger-ui.css" with { type: "file" };

const ErrorBody = t.Object({
  error: t.Object({ code: t.String(), message: t.String(), details: t.Optional(t.Unknown()) }),
});

const errorStatuses = [400, 401, 403, 404, 409, 412, 413, 422, 429, 503];

// The description also lands in the page's <meta> tags unescaped (by the plugin): no double quotes in it.
const documentation = {
  info: {
    title: "tenant-todo",
    version: "0.1.0",
    description:
      "A multi-tenant TODO API: each company is a PostgreSQL schema. Tenant routes need the `tenant` header (the schema; " +
      "or a Host registered to the tenant) and `Authorization: Bearer <token>`. Every error is " +
      "`{ error: { code, message, details? } }`: 400 malformed header or body, 401 missing/invalid/expired/revoked " +
      "token (also a token of another tenant), 403 role, suspended tenant, closed registration or a quota reached, 404 unknown tenant or id, 409 conflict " +
      "(or an Idempotency-Key still in flight), 412 If-Match is stale, 413 body too large, 422 validation (details name " +
      "the fields; or an Idempotency-Key reused with another body), 429 over a rate limit (with Retry-After and the RateLimit-Policy " +
      "and RateLimit headers), 503 the database is unavailable or this tenant timed out (with Retry-After). Tasks and users carry a strong ETag: send it back " +
      "in If-None-Match (304 when unchanged) or If-Match (writes refused with 412 when it is stale). POST /tasks and " +
      "POST /users accept an Idempotency-Key: a retry with the same key and body within 24 hours gets the first response again.",
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
      tenant: { type: "apiKey" as const, in: "header" as const, name: "tenant", description: "The tenant's schema name" },
      bearer: { type: "http" as const, scheme: "bearer", description: "A token from /auth/register or /auth/login" },
      admin: { type: "http" as const, scheme: "bearer", description: "ADMIN_TOKEN, for /cc" },
    },
    schemas: { Error: ErrorBody },
    headers: {
      ETag: { description: "A strong entity tag of this representation", schema: { type: "string" as const } },
    },
    responses: {
      ...Object.fromEntries(
        errorStatuses.map((code) => [
          String(code),
          { description: "Error", content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } } },
        ]),
      ),
      "304": { description: "Not Modified: If-None-Match matched the current ETag; no body", headers: { ETag: { $ref: "#/components/headers/ETag" } } },
    },
  },
};

const asset = (path: string, type: string) => () =>
  new Response(Bun.file(path), { headers: { "content-type": type, "cache-control": "public, max-age=86400" } });

export const docs = new Elysia({ name: "docs" })
  .use(
    openapi({
      path: "/swagger",
      specPath: "/swagger/json",
      provider: "swagger-ui",
      documentation,
      swagger: {
        cdn: "/swagger/assets/swagger-ui-bundle.js",
        theme: "/swagger/assets/swagger-ui.css",
        // Otherwise the page fetches a badge from validator.swagger.io.
        validatorUrl: "none",
      },
    }),
  )
  .get("/swagger/assets/swagger-ui-bundle.js", asset(bundle, "text/javascript; charset=utf-8"), { detail: { hide: true } })
  .get("/swagger/assets/swagger-ui.css", asset(stylesheet, "text/css; charset=utf-8"), { detail: { hide: true } })
  .get("/openapi", ({ redirect }) => redirect("/swagger", 301), { detail: { hide: true } })
  .get("/openapi/json", ({ redirect }) => redirect("/swagger/json", 301), { detail: { hide: true } });
