// The typed guards every tenant route stands behind: `auth: true` resolves the caller (tenant from
// the `tenant` header or the Host, then a live session of that tenant), `admin: true` also requires
// the role. Authentication itself lives in services/auth; this only adapts it to Elysia. With
// TENANT_RATE set, a tenant's signed-in requests are counted here too (only signed-in ones, so
// strangers cannot spend a tenant's rate).
import { Elysia, t } from "elysia";
import type { Deps } from "../app";
import { SCHEMA_PATTERN } from "../db/names";
import type { Role } from "../db/users";
import { authenticate } from "../services/auth";

const TenantHeaders = t.Object(
  {
    tenant: t.Optional(
      t.String({ pattern: SCHEMA_PATTERN, description: "The tenant's schema name; without it, the Host header picks the tenant." }),
    ),
    authorization: t.Optional(t.String({ description: "Bearer <token> from /auth/register or /auth/login" })),
  },
  { additionalProperties: true },
);

type Headers = Record<string, string | undefined>;

const caller = (headers: Headers, request: Request) => ({
  schema: headers.tenant,
  host: headers.host ?? new URL(request.url).host,
  authorization: headers.authorization,
});

export const guards = (deps: Deps) => {
  const { throttle } = deps;
  const resolve =
    (role?: Role) =>
    ({ headers, request }: { headers: Headers; request: Request }) => {
      const signedIn = authenticate(deps, caller(headers, request), role);
      return throttle ? signedIn.then((c) => (throttle.take(c.tenant.schema), c)) : signedIn;
    };
  return new Elysia({ name: "guards", seed: deps.cache }).macro({
    auth: { headers: TenantHeaders, resolve: resolve() },
    admin: { headers: TenantHeaders, resolve: resolve("admin") },
  });
};
