// Register (a new tenant and its first admin), login, logout and the current user.
import { Elysia, t } from "elysia";
import type { Deps } from "../app";
import { userById } from "../db/users";
import { Unauthorized } from "../errors";
import { login, logout, register, type SignedIn } from "../services/auth";
import { errorResponses } from "./errors";
import { presentUser } from "./users";
import { guards } from "./guards";
import { Email, Registration } from "../models";

function present({ token, expires_at, tenant, user }: SignedIn) {
  return { token, expires_at, tenant: { name: tenant.name, schema: tenant.schema }, user: presentUser(user) };
}

export const authRoutes = (deps: Deps) => {
  const { db, source, config } = deps;
  return new Elysia({ prefix: "/auth", detail: { tags: ["auth"], responses: errorResponses(400, 401, 403, 409, 413, 422) } })
    .use(guards(deps))
    .post(
      "/register",
      async ({ body, set }) => {
        set.status = 201;
        return present(await register(deps, source.tenant, body, config.tokenTtlHours));
      },
      {
        body: Registration,
        parse: "json",
        detail: { summary: "Create a company (tenant) with its first admin, and sign in", security: [] },
      },
    )
    .post("/login", async ({ body }) => present(await login(deps, body, config.tokenTtlHours)), {
      body: t.Object({ email: Email, password: t.String({ maxLength: 200 }) }, { additionalProperties: false }),
      parse: "json",
      detail: { summary: "Sign in; the tenant comes from the account", security: [] },
    })
    .post(
      "/logout",
      async ({ tenant, token, status }) => {
        await logout(deps, tenant.schema, token);
        return status(204, undefined);
      },
      { auth: true, detail: { summary: "Revoke this token", security: [{ tenant: [], bearer: [] }] } },
    )
    .get(
      "/me",
      async ({ tenant, user }) => {
        const me = await db.run(tenant.schema, userById, user.id);
        if (!me) throw new Unauthorized("this user no longer exists");
        return { user: presentUser(me), tenant: { name: tenant.name, schema: tenant.schema } };
      },
      { auth: true, detail: { summary: "The signed-in user and tenant", security: [{ tenant: [], bearer: [] }] } },
    );
};
