// The typed guards every tenant route stands behind: `auth: true` resolves the tenant from the
// `tenant` header (or the Host header), then a live session of that same tenant; `admin: true`
// also requires the role. Both lookups are cached, so a warm request costs no query here.
import { Elysia, t, type Context } from "elysia";
import type { Deps } from "../app";
import { SCHEMA_PATTERN, isSchemaName } from "../db/names";
import { sessionByHash } from "../db/sessions";
import { tenantByHost, tenantBySchema, type Tenant } from "../db/tenants";
import type { Role } from "../db/users";
import { tokenHash } from "../services/auth";
import { AuthCache } from "../services/cache";
import { sameSecret } from "../services/passwords";
import { problem, type Problem } from "./errors";

export const TenantHeaders = t.Object(
  {
    tenant: t.Optional(
      t.String({ pattern: SCHEMA_PATTERN, description: "The tenant's schema name; without it, the Host header picks the tenant." }),
    ),
    authorization: t.Optional(t.String({ description: "Bearer <token> from /auth/register or /auth/login" })),
  },
  { additionalProperties: true },
);

type Headers = Record<string, string | undefined>;
type Refusal = { refused: 400 | 401 | 403 | 404; body: Problem };
export type Caller = { tenant: Tenant; user: { id: number; role: Role }; token: string };

const TOKEN = /^Bearer ([A-Za-z0-9_-]{43})$/;
const CHALLENGE = 'Bearer realm="tenant-todo", error="invalid_token"';
const refuse = (refused: Refusal["refused"], code: string, message: string): Refusal => ({ refused, body: problem(code, message) });

async function lookupTenant({ sql, cache }: Deps, schema: string | undefined, host: string): Promise<Tenant | undefined> {
  const memo = schema ? cache.tenants : cache.hosts;
  const key = schema ?? host;
  const cached = memo.get(key);
  if (cached) return cached;
  const tenant = schema
    ? await tenantBySchema(sql, schema)
    : ((await tenantByHost(sql, host)) ?? (await tenantByHost(sql, host.replace(/:\d+$/, ""))));
  if (tenant) memo.set(key, tenant);
  return tenant;
}

async function resolveTenant(deps: Deps, headers: Headers, request: Request): Promise<Tenant | Refusal> {
  const schema = headers.tenant;
  if (schema !== undefined && !isSchemaName(schema)) return refuse(400, "invalid_tenant", "public, pg_* and information_schema are not tenants");
  const tenant = await lookupTenant(deps, schema, (headers.host ?? new URL(request.url).host).toLowerCase());
  if (!tenant)
    return schema
      ? refuse(404, "tenant_not_found", `tenant ${schema} not found`)
      : refuse(400, "tenant_required", "send the tenant header (no tenant is registered for this host)");
  if (tenant.status !== "active") return refuse(403, "tenant_suspended", `tenant ${tenant.schema} is suspended`);
  return tenant;
}

/** The tenant, then a live session of that tenant for the bearer token, then the role if one is required. */
async function authenticate(deps: Deps, headers: Headers, request: Request, role?: Role): Promise<Caller | Refusal> {
  const tenant = await resolveTenant(deps, headers, request);
  if ("refused" in tenant) return tenant;
  const token = TOKEN.exec(headers.authorization ?? "")?.[1];
  if (!token)
    return refuse(401, "unauthorized", headers.authorization ? "the token is invalid, expired or revoked" : "Authorization: Bearer <token> is required");
  const key = AuthCache.sessionKey(tenant.schema, token);
  let session = deps.cache.sessions.get(key);
  if (!session) {
    const row = await sessionByHash(deps.sql, tenant.schema, tokenHash(token));
    if (row) deps.cache.sessions.set(key, (session = { ...row, schema: tenant.schema, expires: Date.parse(row.expires_at) }));
  }
  if (!session || session.expires <= Date.now()) {
    deps.cache.sessions.delete(key);
    return refuse(401, "unauthorized", "the token is invalid, expired or revoked");
  }
  if (role && session.role !== role) return refuse(403, "forbidden", `only ${role}s may do this`);
  return { tenant, user: { id: session.user_id, role: session.role }, token };
}

/** The resolved value, or the refusal as a response (with the Bearer challenge on 401). */
function answer<T extends object>(result: T | Refusal, { status, set }: Pick<Context, "status" | "set">) {
  if (!("refused" in result)) return result;
  if (result.refused === 401) set.headers["www-authenticate"] = CHALLENGE;
  return status(result.refused, result.body);
}

export const guards = (deps: Deps) =>
  new Elysia({ name: "guards", seed: deps.cache }).macro({
    auth: {
      headers: TenantHeaders,
      resolve: async (ctx) => answer(await authenticate(deps, ctx.headers, ctx.request), ctx),
    },
    admin: {
      headers: TenantHeaders,
      resolve: async (ctx) => answer(await authenticate(deps, ctx.headers, ctx.request, "admin"), ctx),
    },
  });

/** Operators (/cc, /metrics) present ADMIN_TOKEN; with none configured the door is closed (503). */
export function refuseOperator(adminToken: string | undefined, authorization: string | undefined, offCode: string): [401 | 503, Problem] | undefined {
  if (!adminToken) return [503, problem(offCode, "this needs ADMIN_TOKEN to be set")];
  const token = /^Bearer (.+)$/.exec(authorization ?? "")?.[1];
  if (!token || !sameSecret(token, adminToken)) return [401, problem("unauthorized", "Authorization: Bearer <ADMIN_TOKEN> is required")];
}
