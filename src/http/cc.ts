// The control API for operators, behind ADMIN_TOKEN: the fleet's tenants and their migrations.
// Same functions as the CLI; nothing about migrations is written here.
import { Elysia, t } from "elysia";
import type { Deps } from "../app";
import { SCHEMA_PATTERN } from "../db/names";
import { listTenants, setTenantStatus } from "../db/tenants";
import { NotFound } from "../errors";
import { migrateAll, migrateTenant, registryStatus } from "../migrator/fleet";
import { status as schemaStatus } from "../migrator/migrator";
import { hashPassword } from "../services/passwords";
import { addUser } from "../services/users";
import { checkSchemaName, createTenant, dropTenant, getTenant } from "../services/tenants";
import { errorResponses, problem } from "./errors";
import { refuseOperator } from "./guards";
import { Email, oneOf, Password, PersonName } from "./models";

const SchemaParams = t.Object({ schema: t.String({ description: "the tenant's schema name" }) });

const NewTenant = t.Object(
  {
    name: t.String({ minLength: 1, maxLength: 200, pattern: "\\S" }),
    schema: t.Optional(t.String({ maxLength: 63, description: "default: derived from the name" })),
    host: t.Optional(t.Nullable(t.String({ maxLength: 253, description: "requests with this Host header reach this tenant" }))),
    admin: t.Optional(
      t.Object({ email: Email, password: Password, first_name: PersonName, last_name: PersonName }, { additionalProperties: false }),
    ),
  },
  { additionalProperties: false },
);

export const ccRoutes = (deps: Deps) => {
  const { sql, source, config, cache } = deps;
  const local = source.tenant;
  const withStatus = <T extends { revision: number; checksum: string }>(tenant: T) => {
    const { checksum: _, ...rest } = tenant;
    return { ...rest, ...registryStatus(tenant, local) };
  };
  return new Elysia({ prefix: "/cc", detail: { tags: ["control"], security: [{ admin: [] }], responses: errorResponses(400, 401, 404, 409, 422, 503) } })
    .onBeforeHandle(({ headers, status, set }) => {
      const refused = refuseOperator(config.adminToken, headers.authorization, "cc_disabled");
      if (!refused) return;
      if (refused[0] === 401) set.headers["www-authenticate"] = 'Bearer realm="tenant-todo-operator"';
      return status(...refused);
    })
    .get("/tenants", async () => (await listTenants(sql)).map(withStatus), {
      detail: { summary: "Every tenant with its revision, the head, what is pending and any drift (from the registry)" },
    })
    .post(
      "/tenants",
      async ({ body, set }) => {
        const password_hash = body.admin && (await hashPassword(body.admin.password));
        const [tenant, admin] = await createTenant(sql, local, body, async (tx, created) =>
          body.admin && password_hash ? addUser(tx, created, { ...body.admin, password_hash, role: "admin" }) : undefined,
        );
        set.status = 201;
        return { ...withStatus(tenant), ...(admin && { admin }) };
      },
      { body: NewTenant, parse: "json", detail: { summary: "Create a tenant (schema migrated to head), optionally with its first admin" } },
    )
    .get(
      "/tenants/:schema",
      async ({ params }) => {
        const tenant = await getTenant(sql, params.schema);
        const { applied, pending, error } = await schemaStatus(sql, tenant.schema, local);
        return { ...withStatus(tenant), applied, pending, ...(error && { drift: error }) };
      },
      { params: SchemaParams, detail: { summary: "One tenant with the migrations applied to its schema" } },
    )
    .delete(
      "/tenants/:schema",
      async ({ params, query, status }) => {
        checkSchemaName(params.schema);
        if (query.confirm !== params.schema)
          return status(400, problem("confirmation_required", `dropping deletes every row of ${params.schema}: add ?confirm=${params.schema}`));
        await dropTenant(sql, params.schema);
        cache.evictTenant(params.schema);
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
      async ({ params, body }) => {
        await getTenant(sql, params.schema);
        return migrateTenant(sql, local, params.schema, { to: body?.to, dryRun: body?.dry_run });
      },
      {
        params: SchemaParams,
        body: t.Optional(t.Object({ to: t.Optional(t.Integer({ minimum: 0 })), dry_run: t.Optional(t.Boolean()) }, { additionalProperties: false })),
        detail: { summary: "Migrate one tenant (to a revision, or as a dry run)" },
      },
    )
    .post(
      "/tenants/:schema/:action",
      async ({ params }) => {
        checkSchemaName(params.schema);
        const tenant = await setTenantStatus(sql, params.schema, params.action === "suspend" ? "suspended" : "active");
        if (!tenant) throw new NotFound(`tenant ${params.schema}`);
        cache.evictTenant(tenant.schema);
        return withStatus(tenant);
      },
      {
        params: t.Object({ schema: t.String(), action: oneOf(["suspend", "resume"]) }),
        detail: { summary: "Suspend (its API answers 403, data kept) or resume a tenant" },
      },
    )
    .post(
      "/migrate",
      // Half the pool by default: the API keeps serving while the fleet migrates.
      ({ body }) =>
        migrateAll(sql, local, {
          dryRun: body?.dry_run,
          concurrency: body?.concurrency ?? Math.max(1, Math.floor(config.dbPoolMax / 2)),
          schemas: body?.schemas,
        }),
      {
      body: t.Optional(
        t.Object(
          {
            dry_run: t.Optional(t.Boolean()),
            concurrency: t.Optional(t.Integer({ minimum: 1, maximum: 64, description: "default: half the pool (DB_POOL_MAX / 2)" })),
            schemas: t.Optional(t.Array(t.String({ pattern: SCHEMA_PATTERN }), { maxItems: 10000, description: "only these tenants (a canary)" })),
          },
          { additionalProperties: false },
        ),
      ),
        detail: { summary: "Migrate every tenant: bounded concurrency, past failures, with a per-tenant report" },
      },
    );
};
