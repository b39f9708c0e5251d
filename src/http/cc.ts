// The control API for operators, behind ADMIN_TOKEN: the fleet's tenants, their migrations (fleet
// runs are in runs.ts), placement on Citus and the audit trail. Writes go through
// services/operations, as the CLI's do, so each leaves one audit event naming the token (by its
// digest); nothing about migrations is written here.
import { Elysia, t } from "elysia";
import type { Deps } from "../app";
import { AppError } from "../errors";
import { fleetStatus, withStatus } from "../migrator/fleet";
import { schemaStatus } from "../migrator/migrator";
import { readAudit, tokenActor } from "../services/audit";
import { authorizeOperator } from "../services/auth";
import { operations } from "../services/operations";
import { STRATEGIES, rebalanceProgress, withNodes } from "../services/placement";
import { getTenant } from "../services/tenants";
import { errorResponses } from "./errors";
import { pathStart } from "./params";
import { presentUser } from "./users";
import { NewTenant, oneOf } from "../models";

const SchemaParams = t.Object({ schema: t.String({ description: "the tenant's schema name" }) });

export const ccRoutes = (deps: Deps) => {
  const { db: { sql }, source, config, cache } = deps;
  const local = source.tenant;
  // Only ever used once the token was checked, so it is the one configured.
  const ops = operations({ sql, cache, actor: tokenActor(config.adminToken ?? "") });
  return (
    new Elysia({ prefix: "/cc", detail: { tags: ["control"], security: [{ admin: [] }], responses: errorResponses(400, 401, 404, 409, 422, 503) } })
      // Before routing and validation: without the token, nothing about /cc is parsed or revealed.
      .onRequest(({ request }) => {
        if (isControlPath(request.url)) authorizeOperator(config.adminToken, request.headers.get("authorization") ?? undefined, "cc_disabled");
      })
      .get("/tenants", async () => withNodes(sql, await fleetStatus(sql, local)), {
        detail: { summary: "Every tenant with its revision, the head, pending files and count, any drift (from the registry), and its node on Citus" },
      })
      .post(
        "/tenants",
        async ({ body: { admin, ...tenant }, set }) => {
          const created = await ops.createTenant(local, tenant, admin);
          set.status = 201;
          return { ...withStatus(created.tenant, local), ...(created.user && { admin: presentUser(created.user) }) };
        },
        { body: NewTenant, parse: "json", detail: { summary: "Create a tenant (schema migrated to head), optionally with its first admin" } },
      )
      .get(
        "/tenants/:schema",
        async ({ params }) => {
          const tenant = await getTenant(sql, params.schema);
          const { applied, interrupted, error } = await schemaStatus(sql, tenant.schema, local);
          const [placed] = await withNodes(sql, [withStatus(tenant, local)]);
          return { ...placed!, applied, ...(interrupted && { interrupted }), ...(error && { drift: error }) };
        },
        { params: SchemaParams, detail: { summary: "One tenant with the migrations applied to its schema (read from the schema)" } },
      )
      .delete(
        "/tenants/:schema",
        async ({ params, query, status }) => {
          if (query.confirm !== params.schema) throw new AppError(400, "confirmation_required", "dropping deletes every row of the tenant: add ?confirm=<schema>");
          await ops.dropTenant(params.schema);
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
        ({ params, body }) => ops.migrateTenant(local, params.schema, { to: body?.to, dryRun: body?.dry_run, limits: config.migrate }),
        {
          params: SchemaParams,
          body: t.Optional(t.Object({ to: t.Optional(t.Integer({ minimum: 0 })), dry_run: t.Optional(t.Boolean()) }, { additionalProperties: false })),
          detail: { summary: "Migrate one tenant (to a revision, or as a dry run)" },
        },
      )
      .post(
        "/tenants/:schema/:action",
        async ({ params }) => withStatus(await ops.setStatus(params.schema, params.action === "suspend" ? "suspended" : "active"), local),
        {
          params: t.Object({ schema: t.String(), action: oneOf(["suspend", "resume"]) }),
          detail: { summary: "Suspend (its API answers 403, data kept) or resume a tenant" },
        },
      )
      .post("/tenants/:schema/move", ({ params, body }) => ops.moveTenant(params.schema, body.node), {
        params: SchemaParams,
        body: t.Object({ node: t.String({ maxLength: 300, description: "host:port of a Citus node that takes tenants" }) }, { additionalProperties: false }),
        parse: "json",
        detail: { summary: "Citus: move a tenant's schema to another node while it serves; reports the duration" },
      })
      .post(
        "/rebalance",
        async ({ body, set }) => {
          set.status = 202;
          set.headers.location = "/cc/rebalance";
          return ops.rebalance(body?.strategy);
        },
        {
          body: t.Optional(t.Object({ strategy: t.Optional(oneOf([...STRATEGIES])) }, { additionalProperties: false })),
          detail: { summary: "Citus: start rebalancing tenants across nodes in the background (by disk size, or by count); 202" },
        },
      )
      .get("/rebalance", () => rebalanceProgress(sql), { detail: { summary: "Citus: the latest rebalance, with its moves counted by state" } })
      .get(
        "/audit",
        async ({ query, request, set }) => {
          const events = await readAudit(sql, query);
          const last = events.at(-1);
          // A full page may have more behind it: the next one starts before its last event.
          if (last && events.length === (query.limit ?? 100)) {
            const next = new URL(request.url);
            next.searchParams.set("before", String(last.id));
            set.headers.link = `<${next.pathname}${next.search}>; rel="next"`;
          }
          // A plain array: Elysia drops set.headers when the body is an Array subclass (Bun's SQL results).
          return [...events];
        },
        {
          query: t.Object(
            {
              schema: t.Optional(t.String({ maxLength: 63, description: "only this tenant's events (public: the registry's)" })),
              action: t.Optional(t.String({ maxLength: 100, description: "only this action, e.g. tenant.create" })),
              limit: t.Optional(t.Integer({ description: "1 to 1000 (default 100)" })),
              before: t.Optional(t.String({ maxLength: 40, description: "an event id (the next page after it) or an ISO 8601 time" })),
            },
            { additionalProperties: false },
          ),
          detail: { summary: "The audit trail of operators' writes (/cc and the CLI), newest first" },
        },
      )
  );
};

/** /cc or /cc/… of an absolute request URL. */
function isControlPath(url: string): boolean {
  const path = pathStart(url);
  return url.startsWith("/cc", path) && (url.length === path + 3 || "/?".includes(url[path + 3]!));
}
