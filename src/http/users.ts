// A tenant's users: everyone may list and read; only admins create, change others and delete.
import { Elysia, t } from "elysia";
import type { Deps } from "../app";
import { USER_SORTS, listUsers, userById, type User } from "../db/users";
import { NotFound } from "../errors";
import { createUser, patchUser, removeUser } from "../services/users";
import { errorResponses } from "./errors";
import { guards } from "./guards";
import { limits } from "./limits";
import { NewUser, Role, UserPatch } from "../models";
import { IdParams, PageQuery, origin, page, pageHeaders, rowId, sortParam, sorting } from "./params";

const UserQuery = t.Object(
  { q: t.Optional(t.String({ maxLength: 200, description: "text in the email or names" })), role: t.Optional(Role), sort: sortParam(USER_SORTS), ...PageQuery },
  { additionalProperties: false },
);

/** A user as the API shows it: timestamps as ISO strings (see tasks.ts's present). */
export function presentUser(user: User) {
  return {
    id: user.id,
    email: user.email,
    first_name: user.first_name,
    last_name: user.last_name,
    role: user.role,
    created_at: user.created_at.toISOString(),
    updated_at: user.updated_at.toISOString(),
  };
}

export const userRoutes = (deps: Deps) => {
  const { db } = deps;
  return new Elysia({ prefix: "/users", detail: { tags: ["users"], security: [{ tenant: [], bearer: [] }], responses: errorResponses(400, 401, 403, 404, 409, 413, 422, 429) } })
    .use(guards(deps))
    .use(limits(deps))
    .get(
      "/",
      async ({ tenant, query, request, set }) => {
        const { limit, offset } = page(query);
        const { rows, total } = await db.run(tenant.schema, listUsers, { ...query, ...sorting(query.sort, "created_at"), limit, offset });
        Object.assign(set.headers, pageHeaders(request.url, origin(request), total, limit, offset));
        return rows.map(presentUser);
      },
      { auth: true, query: UserQuery, detail: { summary: "List users (search with q, sort, paginate)" } },
    )
    .get(
      "/:id",
      async ({ tenant, params }) => {
        const user = await db.run(tenant.schema, userById, rowId(params.id, "user"));
        if (!user) throw new NotFound(`user ${params.id}`);
        return presentUser(user);
      },
      { auth: true, params: IdParams, detail: { summary: "Get a user" } },
    )
    .post(
      "/",
      async ({ tenant, body, set }) => {
        set.status = 201;
        return presentUser(await createUser(deps, tenant, body, deps.config.quotas.users));
      },
      { admin: true, body: NewUser, parse: "json", limit: "users", detail: { summary: "Create a user (admin; TENANT_MAX_USERS, RATE_USERS)" } },
    )
    .patch(
      "/:id",
      async ({ tenant, user, token, params, body }) => presentUser(await patchUser(deps, { tenant, user, token }, rowId(params.id, "user"), body)),
      {
        auth: true,
        params: IdParams,
        body: UserPatch,
        parse: "json",
        limit: "users",
        detail: { summary: "Change a user (admins: anyone; members: their own name and password; an email change counts against RATE_USERS)" },
      },
    )
    .delete(
      "/:id",
      async ({ tenant, user, token, params, status }) => {
        await removeUser(deps, { tenant, user, token }, rowId(params.id, "user"));
        return status(204, undefined);
      },
      { admin: true, params: IdParams, detail: { summary: "Delete a user (admin); their sessions end" } },
    );
};
