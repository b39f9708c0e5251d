// A tenant's tasks. Filters and sorts come from whitelists; values are always parameters.
import type { Db } from "./client";
import { escapeLike, paged } from "./lists";

export type Priority = "low" | "normal" | "high";
export type Task = {
  id: number;
  title: string;
  completed: boolean;
  order: number;
  description: string;
  priority: Priority;
  due_at: string | null;
  assignee_id: number | null;
  tags: string[];
  created_by: number | null;
  created_at: string;
  updated_at: string;
};
export type TaskInput = Partial<Pick<Task, "title" | "completed" | "order" | "description" | "priority" | "due_at" | "assignee_id" | "tags">>;

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

const COLUMNS = ["id", "title", "completed", "order", "description", "priority", "due_at", "assignee_id", "tags", "created_by", "created_at", "updated_at"];
const WRITABLE = ["title", "completed", "order", "description", "priority", "due_at", "assignee_id", "tags"] as const;

function matching(db: Db, query: TaskQuery) {
  const q = query.q ? escapeLike(query.q) : undefined;
  return db`where true
    ${query.completed === undefined ? db`` : db`and completed = ${query.completed}`}
    ${query.assignee === undefined ? db`` : db`and assignee_id = ${query.assignee}`}
    ${q ? db`and (title ilike ${q} or description ilike ${q})` : db``}
    ${query.tag ? db`and tags @> array[${query.tag}]::text[]` : db``}
    ${query.due_before ? db`and due_at < ${query.due_before}` : db``}
    ${query.due_after ? db`and due_at > ${query.due_after}` : db``}`;
}

function ordering(db: Db, query: TaskQuery) {
  const direction = query.desc ? db`desc` : db`asc`;
  const key = query.sort === "priority" ? db`array_position(array['low','normal','high'], priority)` : db(query.sort);
  return db`order by ${key} ${direction} nulls last, id ${direction}`;
}

export async function listTasks(db: Db, schema: string, query: TaskQuery): Promise<{ rows: Task[]; total: number }> {
  const fetched = await db<Task[]>`
    select ${db(COLUMNS)} from ${db(schema)}.tasks ${matching(db, query)}
    ${ordering(db, query)}
    limit ${query.limit + 1} offset ${query.offset}`;
  return paged(fetched, query, async () => (await db<{ n: number }[]>`select count(*)::int as n from ${db(schema)}.tasks ${matching(db, query)}`)[0]!.n);
}

export async function taskById(db: Db, schema: string, id: number): Promise<Task | undefined> {
  const [row] = await db<Task[]>`select ${db(COLUMNS)} from ${db(schema)}.tasks where id = ${id}`;
  return row;
}

export type NewTask = TaskInput & { title: string; created_by: number | null };

/** Rows share the first row's columns; a column it leaves out takes its default. */
export async function insertTasks(db: Db, schema: string, tasks: NewTask[]): Promise<Task[]> {
  if (tasks.length === 0) return [];
  const columns = [...WRITABLE, "created_by"].filter((c) => tasks[0]![c as keyof NewTask] !== undefined);
  return db<Task[]>`insert into ${db(schema)}.tasks ${db(tasks, columns as (keyof NewTask)[])} returning ${db(COLUMNS)}`;
}

export async function updateTask(db: Db, schema: string, id: number, changes: TaskInput): Promise<Task | undefined> {
  const keys = WRITABLE.filter((k) => changes[k] !== undefined);
  if (keys.length === 0) return taskById(db, schema, id);
  const [row] = await db<Task[]>`
    update ${db(schema)}.tasks set ${db(changes, keys)}, updated_at = now()
    where id = ${id} returning ${db(COLUMNS)}`;
  return row;
}

export async function deleteTask(db: Db, schema: string, id: number): Promise<boolean> {
  const rows = await db`delete from ${db(schema)}.tasks where id = ${id} returning id`;
  return rows.length > 0;
}

export async function clearTasks(db: Db, schema: string, completed?: boolean): Promise<number> {
  const rows = await db`delete from ${db(schema)}.tasks ${completed === undefined ? db`` : db`where completed = ${completed}`} returning id`;
  return rows.length;
}
