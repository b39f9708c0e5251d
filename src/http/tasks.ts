// Tasks, the TODO core, following the Todo-Backend conventions (title, completed, order, url,
// partial PATCH, CORS) so existing Todo-Backend clients work with the tenant and bearer headers set.
import { Elysia, t } from "elysia";
import type { Deps } from "../app";
import { TASK_SORTS, clearTasks, deleteTask, insertTasks, listTasks, taskById, updateTask, type Task } from "../db/tasks";
import { Forbidden, NotFound, QuotaExceeded } from "../errors";
import { DateTime, oneOf } from "../models";
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

export const taskRoutes = (deps: Deps) => {
  const { db, config } = deps;
  const maxTasks = config.quotas.tasks;
  return new Elysia({ prefix: "/tasks", detail: { tags: ["tasks"], security: [{ tenant: [], bearer: [] }], responses: errorResponses(400, 401, 403, 404, 413, 422, 429) } })
    .use(guards(deps))
    .get(
      "/",
      async ({ tenant, query, request, set }) => {
        const { limit, offset } = page(query);
        const { rows, total } = await db.run(tenant.schema, listTasks, { ...query, ...sorting(query.sort, "order"), limit, offset });
        const base = origin(request);
        Object.assign(set.headers, pageHeaders(request.url, base, total, limit, offset));
        return rows.map((task) => present(base, task));
      },
      { auth: true, query: TaskQuery, detail: { summary: "List tasks (total in X-Total-Count, pages in Link)" } },
    )
    .post(
      "/",
      async ({ tenant, user, body, request, set }) => {
        const inserted = await db.run(tenant.schema, insertTasks, [{ ...body, created_by: user.id }], maxTasks);
        if (!inserted) throw new QuotaExceeded("tasks", maxTasks!);
        const created = present(origin(request), inserted[0]!);
        set.status = 201;
        set.headers.location = created.url;
        return created;
      },
      { auth: true, body: TaskCreate, parse: "json", detail: { summary: "Create a task (at most TENANT_MAX_TASKS per tenant)" } },
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
        detail: { summary: "Clear all tasks (admin), or only the completed ones (?completed=true)" },
      },
    )
    .get(
      "/:id",
      async ({ tenant, params, request }) => {
        const task = await db.run(tenant.schema, taskById, rowId(params.id, "task"));
        if (!task) throw new NotFound(`task ${params.id}`);
        return present(origin(request), task);
      },
      { auth: true, params: IdParams, detail: { summary: "Get a task" } },
    )
    .patch(
      "/:id",
      async ({ tenant, params, body, request }) => {
        const task = await db.run(tenant.schema, updateTask, rowId(params.id, "task"), body);
        if (!task) throw new NotFound(`task ${params.id}`);
        return present(origin(request), task);
      },
      { auth: true, params: IdParams, body: TaskPatch, parse: "json", detail: { summary: "Change some fields of a task" } },
    )
    .delete(
      "/:id",
      async ({ tenant, params, status }) => {
        if (!(await db.run(tenant.schema, deleteTask, rowId(params.id, "task")))) throw new NotFound(`task ${params.id}`);
        return status(204, undefined);
      },
      { auth: true, params: IdParams, detail: { summary: "Delete a task" } },
    );
};
