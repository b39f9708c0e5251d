// The control API for operators, behind ADMIN_TOKEN: the fleet's tenants and their migrations
// (fleet runs are in runs.ts). Same functions as the CLI; nothing about migrations is written here.
import { Elysia, t } from "elysia";
import type { Deps } from "../app";
import { AppError } from "../errors";
import { fleetStatus, withStatus } from "../migrator/fleet";
import { schemaStatus } from "../migrator/migrator";
import { authorizeOperator, createWithAdmin } from "../services/auth";
import { createTenant, dropTenant, getTenant, migrateOne, setStatus } from "../services/tenants";
import { errorResponses } from "./errors";
import { pathStart } from "./params";
import { NewTenant, oneOf } from "../models";

const SchemaParams = t.Object({ schema: t.String({ description: "the tenant's schema name" }) });

export const ccRoutes = (deps: Deps) => {
  const { db: { sql }, source, config, cache } = deps;
  const local = source.tenant;
  return (
    new Elysia({ prefix: "/cc", detail: { tags: ["control"], security: [{ admin: [] }], responses: errorResponses(400, 401, 404, 409, 422, 503) } })
      // Before routing and validation: without the token, nothing about /cc is parsed or revealed.
      .onRequest(({ request }) => {
        if (isControlPath(request.url)) authorizeOperator(config.adminToken, request.headers.get("authorization") ?? undefined, "cc_disabled");
      })
      .get("/tenants", () => fleetStatus(sql, local), {
        detail: { summary: "Every tenant with its revision, the head, pending files and count, and any drift (from the registry)" },
      })
      .post(
        "/tenants",
        async ({ body: { admin, ...tenant }, set }) => {
          set.status = 201;
          if (!admin) return withStatus((await createTenant(sql, local, tenant))[0], local);
          const created = await createWithAdmin(sql, local, tenant, admin);
          return { ...withStatus(created.tenant, local), admin: created.user };
        },
        { body: NewTenant, parse: "json", detail: { summary: "Create a tenant (schema migrated to head), optionally with its first admin" } },
      )
      .get(
        "/tenants/:schema",
        async ({ params }) => {
          const tenant = await getTenant(sql, params.schema);
          const { applied, interrupted, error } = await schemaStatus(sql, tenant.schema, local);
          return { ...withStatus(tenant, local), applied, ...(interrupted && { interrupted }), ...(error && { drift: error }) };
        },
        { params: SchemaParams, detail: { summary: "One tenant with the migrations applied to its schema (read from the schema)" } },
      )
      .delete(
        "/tenants/:schema",
        async ({ params, query, status }) => {
          if (query.confirm !== params.schema) throw new AppError(400, "confirmation_required", "dropping deletes every row of the tenant: add ?confirm=<schema>");
          await dropTenant(sql, params.schema, cache);
          return status(204, undefined);
        },
        {
          params: SchemaParams,
          query: t.Object({ confirm: t.Optional(t.String()) }),
          detail: { summary: "Drop a tenant's schema and registry rows (needs ?confirm=<schema>)" },
        },
      )
      .post(
        "/tenants/:schema/migrate",
        ({ params, body }) => migrateOne(sql, local, params.schema, { to: body?.to, dryRun: body?.dry_run, limits: config.migrate }),
        {
          params: SchemaParams,
          body: t.Optional(t.Object({ to: t.Optional(t.Integer({ minimum: 0 })), dry_run: t.Optional(t.Boolean()) }, { additionalProperties: false })),
          detail: { summary: "Migrate one tenant (to a revision, or as a dry run)" },
        },
      )
      .post(
        "/tenants/:schema/:action",
        async ({ params }) => withStatus(await setStatus(sql, cache, params.schema, params.action === "suspend" ? "suspended" : "active"), local),
        {
          params: t.Object({ schema: t.String(), action: oneOf(["suspend", "resume"]) }),
          detail: { summary: "Suspend (its API answers 403, data kept) or resume a tenant" },
        },
      )
  );
};

/** /cc or /cc/… of an absolute request URL. */
function isControlPath(url: string): boolean {
  const path = pathStart(url);
  return url.startsWith("/cc", path) && (url.length === path + 3 || "/?".includes(url[path + 3]!));
}
