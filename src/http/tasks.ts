// Tasks, the TODO core, following the Todo-Backend conventions (title, completed, order, url,
// partial PATCH, CORS) so existing Todo-Backend clients work with the tenant and bearer headers set.
import { Elysia, t } from "elysia";
import type { Deps } from "../app";
import type { Sql } from "../db/client";
import { TASK_SORTS, clearTasks, deleteTask, insertTasks, listTasks, taskById, taskExists, updateTask, type Task } from "../db/tasks";
import { Forbidden, NotFound, PreconditionFailed, QuotaExceeded } from "../errors";
import { DateTime, oneOf } from "../models";
import { IfMatch, IfNoneMatch, acceptedVersions, notModifiedResponse, pageTag, rowTag, unchanged, withETag } from "./conditional";
import { IdempotencyKey, fingerprint, idempotent, parseKey, send, type Reply } from "./idempotency";
import { errorResponses } from "./errors";
import { guards } from "./guards";
import { IdParams, PageQuery, origin, page, pageHeaders, rowId, sortParam, sorting } from "./params";

const Title = t.String({ minLength: 1, maxLength: 500 });
const Fields = {
  completed: t.Boolean(),
  order: t.Integer({ minimum: -2147483648, maximum: 2147483647 }),
  description: t.String({ maxLength: 10000 }),
  priority: oneOf(["low", "normal", "high"]),
  due_at: t.Nullable(DateTime),
  assignee_id: t.Nullable(t.Integer({ minimum: 1, maximum: 2147483647 })),
  tags: t.Array(t.String({ minLength: 1, maxLength: 50 }), { maxItems: 20, uniqueItems: true }),
};
const optional = t.Partial(t.Object(Fields)).properties;
const TaskCreate = t.Object({ title: Title, ...optional }, { additionalProperties: false });
const TaskPatch = t.Object({ title: t.Optional(Title), ...optional }, { additionalProperties: false });

const TaskQuery = t.Object(
  {
    completed: t.Optional(t.Boolean()),
    assignee: t.Optional(t.Integer({ description: "a user id" })),
    q: t.Optional(t.String({ maxLength: 200, description: "text in the title or description" })),
    tag: t.Optional(t.String({ maxLength: 50 })),
    due_before: t.Optional(DateTime),
    due_after: t.Optional(DateTime),
    sort: sortParam(TASK_SORTS),
    ...PageQuery,
  },
  { additionalProperties: false },
);

// Built field by field: one allocation of a fixed shape per row, no spread copies on the hot path;
// timestamps as ISO strings here, which serialises faster than leaving JSON to call each Date's toJSON.
function present(base: string, task: Task) {
  return {
    id: task.id,
    url: `${base}/tasks/${task.id}`,
    title: task.title,
    completed: task.completed,
    order: task.order,
    description: task.description,
    priority: task.priority,
    due_at: task.due_at && task.due_at.toISOString(),
    assignee_id: task.assignee_id,
    tags: task.tags,
    created_by: task.created_by,
    created_at: task.created_at.toISOString(),
    updated_at: task.updated_at.toISOString(),
  };
}

/** Why a conditional write found no row: 412 when the task is there at another version, else 404. */
async function miss(sql: Sql, schema: string, id: number, versions: number[] | undefined): Promise<never> {
  if (versions && (await taskExists(sql, schema, id))) throw new PreconditionFailed(`task ${id}`);
  throw new NotFound(`task ${id}`);
}

const errors = (...statuses: number[]) => errorResponses(400, 401, 403, 404, 413, 422, 429, 503, ...statuses);

export const taskRoutes = (deps: Deps) => {
  const { db, config } = deps;
  const maxTasks = config.quotas.tasks;
  // Each route lists its own responses: Elysia merges a route's detail into the group's object in place.
  return new Elysia({ prefix: "/tasks", detail: { tags: ["tasks"], security: [{ tenant: [], bearer: [] }] } })
    .use(guards(deps))
    .get(
      "/",
      async ({ tenant, query, headers, request, set, status }) => {
        const { limit, offset } = page(query);
        const { rows, total } = await db.run(tenant.schema, listTasks, { ...query, ...sorting(query.sort, "order"), limit, offset });
        const base = origin(request);
        if (unchanged(set, headers["if-none-match"], pageTag(tenant.id, total, rows, base))) return status(304, undefined);
        Object.assign(set.headers, pageHeaders(request.url, base, total, limit, offset));
        return rows.map((task) => present(base, task));
      },
      {
        auth: true,
        query: TaskQuery,
        headers: IfNoneMatch,
        detail: {
          summary: "List tasks (total in X-Total-Count, pages in Link)",
          responses: { ...errors(), 200: withETag("The page of tasks; the ETag changes whenever the page, or the total, does"), 304: notModifiedResponse },
        },
      },
    )
    .post(
      "/",
      async ({ tenant, user, body, headers, request, set }) => {
        const key = parseKey(headers["idempotency-key"]);
        const base = origin(request);
        const create = async (sql: Sql): Promise<Reply<ReturnType<typeof present>>> => {
          const [task] = (await insertTasks(sql, tenant.schema, [{ ...body, created_by: user.id }], maxTasks)) ?? [];
          if (!task) throw new QuotaExceeded("tasks", maxTasks!);
          const created = present(base, task);
          return { status: 201, location: created.url, etag: rowTag(tenant.id, task), body: created };
        };
        const reply = key
          ? await idempotent(deps, tenant.schema, { user: user.id, key, fingerprint: fingerprint("POST", "/tasks", body) }, create)
          : await db.run(tenant.schema, create);
        return send(set, reply);
      },
      {
        auth: true,
        body: TaskCreate,
        headers: IdempotencyKey,
        parse: "json",
        detail: {
          summary: "Create a task (at most TENANT_MAX_TASKS per tenant)",
          description: "With an Idempotency-Key, a retry with the same key and body within 24 hours gets the first response again and creates nothing.",
          responses: { ...errors(409), 201: withETag("The task, also at Location") },
        },
      },
    )
    .delete(
      "/",
      async ({ tenant, user, query, status }) => {
        if (query.completed !== true && user.role !== "admin") throw new Forbidden("only admins may clear every task; members may clear ?completed=true");
        await db.run(tenant.schema, clearTasks, query.completed);
        return status(204, undefined);
      },
      {
        auth: true,
        query: t.Object({ completed: t.Optional(t.Boolean()) }, { additionalProperties: false }),
        detail: { summary: "Clear all tasks (admin), or only the completed ones (?completed=true)", responses: errors() },
      },
    )
    .get(
      "/:id",
      async ({ tenant, params, headers, request, set, status }) => {
        const task = await db.run(tenant.schema, taskById, rowId(params.id, "task"));
        if (!task) throw new NotFound(`task ${params.id}`);
        if (unchanged(set, headers["if-none-match"], rowTag(tenant.id, task))) return status(304, undefined);
        return present(origin(request), task);
      },
      {
        auth: true,
        params: IdParams,
        headers: IfNoneMatch,
        detail: { summary: "Get a task", responses: { ...errors(), 200: withETag("The task"), 304: notModifiedResponse } },
      },
    )
    .patch(
      "/:id",
      async ({ tenant, params, headers, body, request, set }) => {
        const id = rowId(params.id, "task");
        const versions = acceptedVersions(headers["if-match"], tenant.id, id);
        const task = await db.run(tenant.schema, async (sql, schema) => (await updateTask(sql, schema, id, body, versions)) ?? miss(sql, schema, id, versions));
        set.headers.etag = rowTag(tenant.id, task);
        return present(origin(request), task);
      },
      {
        auth: true,
        params: IdParams,
        headers: IfMatch,
        body: TaskPatch,
        parse: "json",
        detail: { summary: "Change some fields of a task", responses: { ...errors(412), 200: withETag("The changed task") } },
      },
    )
    .delete(
      "/:id",
      async ({ tenant, params, headers, status }) => {
        const id = rowId(params.id, "task");
        const versions = acceptedVersions(headers["if-match"], tenant.id, id);
        await db.run(tenant.schema, async (sql, schema) => (await deleteTask(sql, schema, id, versions)) || miss(sql, schema, id, versions));
        return status(204, undefined);
      },
      { auth: true, params: IdParams, headers: IfMatch, detail: { summary: "Delete a task", responses: errors(412) } },
    );
};
