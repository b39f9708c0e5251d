// A tenant's tasks. Filters and sorts come from whitelists; values are always parameters.
import type { Sql } from "./client";
import { escapeLike, paged } from "./lists";

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

const COLUMNS = `id, title, completed, "order", description, priority, due_at, assignee_id, tags, created_by, created_at, updated_at`;
const WRITABLE = ["title", "completed", "order", "description", "priority", "due_at", "assignee_id", "tags"] as const;

/** The filters present, as fragments joined by the client; none at all for the plain list (the hot path). */
function matching(sql: Sql, query: TaskQuery) {
  const q = query.q ? escapeLike(query.q) : undefined;
  const filters = [
    query.completed !== undefined && sql`and completed = ${query.completed}`,
    query.assignee !== undefined && sql`and assignee_id = ${query.assignee}`,
    q && sql`and (title ilike ${q} or description ilike ${q})`,
    query.tag && sql`and tags @> array[${query.tag}]::text[]`,
    query.due_before && sql`and due_at < ${query.due_before}`,
    query.due_after && sql`and due_at > ${query.due_after}`,
  ].filter((f) => f !== false && f !== undefined && f !== "");
  return filters.length ? sql`where true ${filters}` : sql``;
}

// Every ORDER BY the API allows, written out once: a constant is cheaper to send than fragments.
const ORDER = Object.fromEntries(
  TASK_SORTS.flatMap((sort) => {
    const key = sort === "priority" ? "array_position(array['low','normal','high'], priority)" : `"${sort}"`;
    return (["asc", "desc"] as const).map((dir) => [`${sort} ${dir}`, `order by ${key} ${dir} nulls last, id ${dir}`]);
  }),
);

export async function listTasks(sql: Sql, schema: string, query: TaskQuery): Promise<{ rows: Task[]; total: number }> {
  const where = matching(sql, query);
  const fetched = await sql<Task[]>`
    select ${sql.unsafe(COLUMNS)} from ${sql(schema)}.tasks ${where}
    ${sql.unsafe(ORDER[`${query.sort} ${query.desc ? "desc" : "asc"}`]!)}
    limit ${query.limit + 1} offset ${query.offset}`;
  return paged(fetched, query, async () => (await sql<{ n: number }[]>`select count(*)::int as n from ${sql(schema)}.tasks ${matching(sql, query)}`)[0]!.n);
}

export async function taskById(sql: Sql, schema: string, id: number): Promise<Task | undefined> {
  const [row] = await sql<Task[]>`select ${sql.unsafe(COLUMNS)} from ${sql(schema)}.tasks where id = ${id}`;
  return row;
}

type NewTask = TaskInput & { title: string; created_by: number | null };

/** Rows share the first row's columns; a column it leaves out takes its default. */
export async function insertTasks(sql: Sql, schema: string, tasks: NewTask[]): Promise<Task[]> {
  if (tasks.length === 0) return [];
  const columns = [...WRITABLE, "created_by"].filter((c) => tasks[0]![c as keyof NewTask] !== undefined);
  return sql<Task[]>`insert into ${sql(schema)}.tasks ${sql(tasks, ...(columns as (keyof NewTask)[]))} returning ${sql.unsafe(COLUMNS)}`;
}

/** Only a row at one of these versions (updated_at in ms: If-Match), when given; checked by the statement itself. */
function atVersion(sql: Sql, versions: number[] | undefined) {
  return versions ? sql`and floor(extract(epoch from updated_at) * 1000)::int8 = any(${versions}::int8[])` : sql``;
}

/** The changed task; undefined when there is no such task, or it is at none of `versions`. A trigger moves updated_at (sql/tenant/0002). */
export async function updateTask(sql: Sql, schema: string, id: number, changes: TaskInput, versions?: number[]): Promise<Task | undefined> {
  const keys = WRITABLE.filter((k) => changes[k] !== undefined);
  if (keys.length === 0) {
    const task = await taskById(sql, schema, id);
    return task && (!versions || versions.includes(task.updated_at.getTime())) ? task : undefined;
  }
  const [row] = await sql<Task[]>`
    update ${sql(schema)}.tasks set ${sql(changes, ...keys)}
    where id = ${id} ${atVersion(sql, versions)} returning ${sql.unsafe(COLUMNS)}`;
  return row;
}

/** False when there is no such task, or it is at none of `versions`. */
export async function deleteTask(sql: Sql, schema: string, id: number, versions?: number[]): Promise<boolean> {
  return (await sql`delete from ${sql(schema)}.tasks where id = ${id} ${atVersion(sql, versions)}`).count > 0;
}

export async function taskExists(sql: Sql, schema: string, id: number): Promise<boolean> {
  return (await sql`select 1 from ${sql(schema)}.tasks where id = ${id}`).length > 0;
}

export async function clearTasks(sql: Sql, schema: string, completed?: boolean): Promise<number> {
  return (await sql`delete from ${sql(schema)}.tasks ${completed === undefined ? sql`` : sql`where completed = ${completed}`}`).count;
}
