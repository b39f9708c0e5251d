// Register (a new tenant and its first admin), login, logout and the current user.
import { Elysia, t } from "elysia";
import type { Deps } from "../app";
import { userById } from "../db/users";
import { AppError, Unauthorized } from "../errors";
import { login, logout, register, type SignedIn } from "../services/auth";
import { errorResponses } from "./errors";
import { presentUser } from "./users";
import { guards } from "./guards";
import { limits } from "./limits";
import { Email, Registration } from "../models";

function present({ token, expires_at, tenant, user }: SignedIn) {
  return { token, expires_at, tenant: { name: tenant.name, schema: tenant.schema }, user: presentUser(user) };
}

export const authRoutes = (deps: Deps) => {
  const { db, source, config } = deps;
  return new Elysia({ prefix: "/auth", detail: { tags: ["auth"], responses: errorResponses(400, 401, 403, 409, 413, 422, 429) } })
    .use(guards(deps))
    .use(limits(deps))
    .post(
      "/register",
      async ({ body, set }) => {
        if (config.registration === "closed") throw new AppError(403, "registration_closed", "sign-up is closed: an operator creates tenants");
        set.status = 201;
        return present(await register(deps, source.tenant, body, config.tokenTtlHours));
      },
      {
        body: Registration,
        parse: "json",
        limit: "register",
        detail: { summary: "Create a company (tenant) with its first admin, and sign in (REGISTRATION, RATE_REGISTER)", security: [] },
      },
    )
    .post("/login", async ({ body }) => present(await login(deps, body, config.tokenTtlHours)), {
      body: t.Object({ email: Email, password: t.String({ maxLength: 200 }) }, { additionalProperties: false }),
      parse: "json",
      limit: "login",
      detail: { summary: "Sign in; the tenant comes from the account (RATE_LOGIN_IP, RATE_LOGIN_EMAIL)", security: [] },
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
