// A tenant's users: everyone may list and read; only admins create, change others and delete.
import { Elysia, t } from "elysia";
import type { Deps } from "../app";
import { USER_SORTS, listUsers, userById, type User } from "../db/users";
import { NotFound } from "../errors";
import type { Sql } from "../db/client";
import { addUser, newUserRow, patchUser, removeUser } from "../services/users";
import { IfMatch, IfNoneMatch, acceptedVersions, notModifiedResponse, pageTag, rowTag, unchanged, withETag } from "./conditional";
import { errorResponses } from "./errors";
import { IdempotencyKey, fingerprint, idempotent, parseKey, send, type Reply } from "./idempotency";
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

const errors = (...statuses: number[]) => errorResponses(400, 401, 403, 404, 409, 413, 422, 429, 503, ...statuses);

export const userRoutes = (deps: Deps) => {
  const { db } = deps;
  // Each route lists its own responses: Elysia merges a route's detail into the group's object in place.
  return new Elysia({ prefix: "/users", detail: { tags: ["users"], security: [{ tenant: [], bearer: [] }] } })
    .use(guards(deps))
    .use(limits(deps))
    .get(
      "/",
      async ({ tenant, query, headers, request, set, status }) => {
        const { limit, offset } = page(query);
        const { rows, total } = await db.run(tenant.schema, listUsers, { ...query, ...sorting(query.sort, "created_at"), limit, offset });
        if (unchanged(set, headers["if-none-match"], pageTag(tenant.id, total, rows))) return status(304, undefined);
        Object.assign(set.headers, pageHeaders(request.url, origin(request), total, limit, offset));
        return rows.map(presentUser);
      },
      {
        auth: true,
        query: UserQuery,
        headers: IfNoneMatch,
        detail: { summary: "List users (search with q, sort, paginate)", responses: { ...errors(), 200: withETag("The page of users"), 304: notModifiedResponse } },
      },
    )
    .get(
      "/:id",
      async ({ tenant, params, headers, set, status }) => {
        const user = await db.run(tenant.schema, userById, rowId(params.id, "user"));
        if (!user) throw new NotFound(`user ${params.id}`);
        if (unchanged(set, headers["if-none-match"], rowTag(tenant.id, user))) return status(304, undefined);
        return presentUser(user);
      },
      {
        auth: true,
        params: IdParams,
        headers: IfNoneMatch,
        detail: { summary: "Get a user", responses: { ...errors(), 200: withETag("The user"), 304: notModifiedResponse } },
      },
    )
    .post(
      "/",
      async ({ tenant, user, body, headers, set }) => {
        const key = parseKey(headers["idempotency-key"]);
        const row = await newUserRow(body);
        const create = async (tx: Sql): Promise<Reply<ReturnType<typeof presentUser>>> => {
          const created = await addUser(tx, tenant, row, deps.config.quotas.users);
          return { status: 201, etag: rowTag(tenant.id, created), body: presentUser(created) };
        };
        const { password, ...fields } = body;
        const reply = key
          ? await idempotent(
              deps,
              tenant.schema,
              { user: user.id, key, fingerprint: fingerprint("POST", "/users", fields), password: { plain: password, hash: row.password_hash } },
              create,
            )
          : await db.run(tenant.schema, (sql) => sql.begin(create));
        return send(set, reply);
      },
      {
        admin: true,
        body: NewUser,
        headers: IdempotencyKey,
        parse: "json",
        limit: "users",
        detail: {
          summary: "Create a user (admin; TENANT_MAX_USERS, RATE_USERS)",
          description: "With an Idempotency-Key, a retry with the same key and body within 24 hours gets the first response again and creates nothing.",
          responses: { ...errors(), 201: withETag("The user") },
        },
      },
    )
    .patch(
      "/:id",
      async ({ tenant, user, token, params, headers, body, set }) => {
        const id = rowId(params.id, "user");
        const changed = await patchUser(deps, { tenant, user, token }, id, body, acceptedVersions(headers["if-match"], tenant.id, id));
        set.headers.etag = rowTag(tenant.id, changed);
        return presentUser(changed);
      },
      {
        auth: true,
        params: IdParams,
        headers: IfMatch,
        body: UserPatch,
        parse: "json",
        limit: "users",
        detail: {
          summary: "Change a user (admins: anyone; members: their own name and password; an email change counts against RATE_USERS)",
          responses: { ...errors(412), 200: withETag("The changed user") },
        },
      },
    )
    .delete(
      "/:id",
      async ({ tenant, user, token, params, headers, status }) => {
        const id = rowId(params.id, "user");
        await removeUser(deps, { tenant, user, token }, id, acceptedVersions(headers["if-match"], tenant.id, id));
        return status(204, undefined);
      },
      { admin: true, params: IdParams, headers: IfMatch, detail: { summary: "Delete a user (admin); their sessions end", responses: errors(412) } },
    );
};
