// A tenant's tasks. Filters and sorts come from whitelists; values are always parameters.
import type { SQL } from "bun";
import type { Sql } from "./client";
import { escapeLike, Filter, listPage } from "./lists";
import { NEXT_VERSION } from "./versions";

type Priority = "low" | "normal" | "high";
export type Task = {
  id: number;
  title: string;
  completed: boolean;
  order: number;
  description: string;
  priority: Priority;
  due_at: Date | null;
  assignee_id: number | null;
  tags: string[];
  created_by: number | null;
  created_at: Date;
  updated_at: Date;
  /** Moves on with every change (versions.ts): the ETag's. */
  version: number;
};
/** What a client may write; dates as ISO 8601 text. */
type TaskInput = Partial<Pick<Task, "title" | "completed" | "order" | "description" | "priority" | "assignee_id" | "tags"> & { due_at: string | null }>;

export const TASK_SORTS = ["order", "created_at", "due_at", "priority"] as const;
export type TaskQuery = {
  completed?: boolean;
  assignee?: number;
  q?: string;
  tag?: string;
  due_before?: string;
  due_after?: string;
  sort: (typeof TASK_SORTS)[number];
  desc: boolean;
  limit: number;
  offset: number;
};

const COLUMNS = `id, title, completed, "order", description, priority, due_at, assignee_id, tags, created_by, created_at, updated_at, version`;
const WRITABLE = ["title", "completed", "order", "description", "priority", "due_at", "assignee_id", "tags"] as const;

/** The filters present; none at all for the plain list (the hot path). */
function matching(query: TaskQuery): Filter {
  const filter = new Filter();
  const { $ } = filter;
  if (query.q) {
    const q = $(escapeLike(query.q));
    filter.where(`(title ilike ${q} or description ilike ${q})`);
  }
  if (query.completed !== undefined) filter.where(`completed = ${$(query.completed)}`);
  if (query.assignee !== undefined) filter.where(`assignee_id = ${$(query.assignee)}`);
  if (query.tag) filter.where(`tags @> array[${$(query.tag)}]::text[]`);
  if (query.due_before) filter.where(`due_at < ${$(query.due_before)}`);
  if (query.due_after) filter.where(`due_at > ${$(query.due_after)}`);
  return filter;
}

// Every ORDER BY the API allows, written out once: a constant is cheaper to send than fragments.
const ORDER = Object.fromEntries(
  TASK_SORTS.flatMap((sort) => {
    const key = sort === "priority" ? "array_position(array['low','normal','high'], priority)" : `"${sort}"`;
    return (["asc", "desc"] as const).map((dir) => [`${sort} ${dir}`, `order by ${key} ${dir} nulls last, id ${dir}`]);
  }),
);

export function listTasks(sql: Sql, schema: string, query: TaskQuery): Promise<{ rows: Task[]; total: number }> {
  const order = ORDER[`${query.sort} ${query.desc ? "desc" : "asc"}`]!;
  return listPage(sql, schema, { columns: COLUMNS, table: "tasks", filter: matching(query), order }, query);
}

export async function taskById(sql: Sql, schema: string, id: number): Promise<Task | undefined> {
  const [row] = await sql<Task[]>`select ${sql.unsafe(COLUMNS)} from ${sql(schema)}.tasks where id = ${id}`;
  return row;
}

type NewTask = TaskInput & { title: string; created_by: number | null };

/**
 * Inserts the rows and counts them in the tenant's `counts` row, in one statement: undefined (and
 * nothing inserted) when that would take the count over `max` (undefined: no quota). Concurrent inserts queue on that row,
 * each checking the count the previous one left, so none passes the last slot twice. Rows share the
 * first row's columns; a column it leaves out takes its default.
 */
export async function insertTasks(sql: Sql, schema: string, tasks: NewTask[], max?: number): Promise<Task[] | undefined> {
  if (tasks.length === 0) return [];
  // Names from the WRITABLE list (never from the input), quoted: "order" is a keyword.
  const columns = sql.unsafe(
    [...WRITABLE, "created_by"]
      .filter((c) => tasks[0]![c as keyof NewTask] !== undefined)
      .map((c) => `"${c}"`)
      .join(", "),
  );
  const rows = await sql<Task[]>`
    with slot as (update ${sql(schema)}.counts set tasks = tasks + ${tasks.length} where tasks + ${tasks.length} <= coalesce(${max ?? null}::int, 2147483647) returning 1)
    insert into ${sql(schema)}.tasks (${columns})
    select ${columns} from jsonb_populate_recordset(null::${sql(schema)}.tasks, ${tasks}::jsonb)
    where exists (select from slot)
    returning ${sql.unsafe(COLUMNS)}`;
  return rows.length ? rows : undefined;
}

/** Only a row at one of these versions (If-Match), when given; checked by the statement itself. */
function atVersion(sql: Sql, versions: number[] | undefined) {
  return versions ? sql`and version = any(${versions}::int[])` : sql``;
}

/** The changed task, at its next version; undefined when there is no such task, or it is at none of `versions`. */
export async function updateTask(sql: Sql, schema: string, id: number, changes: TaskInput, versions?: number[]): Promise<Task | undefined> {
  const keys = WRITABLE.filter((k) => changes[k] !== undefined);
  if (keys.length === 0) {
    const task = await taskById(sql, schema, id);
    return task && (!versions || versions.includes(task.version)) ? task : undefined;
  }
  const [row] = await sql<Task[]>`
    update ${sql(schema)}.tasks set ${sql(changes, ...keys)}, ${sql.unsafe(NEXT_VERSION)}
    where id = ${id} ${atVersion(sql, versions)} returning ${sql.unsafe(COLUMNS)}`;
  return row;
}

/**
 * Unassigns a user's tasks and clears them as their creator, each at its next version: what the
 * foreign keys' ON DELETE SET NULL would do, without leaving those tasks at a version they no longer are.
 */
export async function releaseTasks(sql: Sql, schema: string, userId: number) {
  await sql`
    update ${sql(schema)}.tasks
    set assignee_id = nullif(assignee_id, ${userId}), created_by = nullif(created_by, ${userId}), ${sql.unsafe(NEXT_VERSION)}
    where assignee_id = ${userId} or created_by = ${userId}`;
}

/** False when there is no such task, or it is at none of `versions`. */
export async function deleteTask(sql: Sql, schema: string, id: number, versions?: number[]): Promise<boolean> {
  return (await deleteCounted(sql, schema, sql`where id = ${id} ${atVersion(sql, versions)}`)) > 0;
}

export async function taskExists(sql: Sql, schema: string, id: number): Promise<boolean> {
  return (await sql`select 1 from ${sql(schema)}.tasks where id = ${id}`).length > 0;
}

export function clearTasks(sql: Sql, schema: string, completed?: boolean): Promise<number> {
  return deleteCounted(sql, schema, completed === undefined ? sql`` : sql`where completed = ${completed}`);
}

/** Deletes tasks and takes them off the tenant's count, in one statement; how many went. */
async function deleteCounted(sql: Sql, schema: string, where: SQL.Query<unknown>): Promise<number> {
  const [row] = await sql<{ n: number }[]>`
    with gone as (delete from ${sql(schema)}.tasks ${where} returning 1),
    counted as (update ${sql(schema)}.counts set tasks = tasks - (select count(*) from gone) where exists (select from gone))
    select count(*)::int as n from gone`;
  return row!.n;
}
