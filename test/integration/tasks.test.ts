// Tasks through the HTTP API: Todo-Backend behaviour, and filters, sorting and paging checked
// against a plain in-memory computation over faker-generated data.
import { faker } from "@faker-js/faker";
import { beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "../support/http";

const api = await testApp();
let owner: Awaited<ReturnType<TestApp["signUp"]>>;

beforeAll(async () => {
  owner = await api.signUp();
});

describe("Todo-Backend conventions", () => {
  test("create → 201 with an absolute url that reads back; partial PATCH; DELETE → 204 then 404", async () => {
    const created = await api.req("POST", "/tasks", { headers: owner.headers, body: { title: "walk the dog", order: 3 } });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ title: "walk the dog", completed: false, order: 3, priority: "normal", tags: [], due_at: null });
    expect(created.body.url).toBe(`http://localhost/tasks/${created.body.id}`);
    expect(created.headers.get("location")).toBe(created.body.url);
    const path = new URL(created.body.url).pathname;

    const patched = await api.req("PATCH", path, { headers: owner.headers, body: { completed: true } });
    expect(patched.body).toMatchObject({ title: "walk the dog", completed: true, order: 3, priority: "normal" });
    const renamed = await api.req("PATCH", path, { headers: owner.headers, body: { title: "walk the cat" } });
    expect(renamed.body).toMatchObject({ title: "walk the cat", completed: true, order: 3, priority: "normal" });
    expect(new Date(renamed.body.updated_at).getTime()).toBeGreaterThanOrEqual(new Date(created.body.updated_at).getTime());

    expect((await api.req("GET", path, { headers: owner.headers })).body).toEqual(renamed.body);
    expect((await api.req("DELETE", path, { headers: owner.headers })).status).toBe(204);
    expect((await api.req("GET", path, { headers: owner.headers })).status).toBe(404);
    expect((await api.req("DELETE", path, { headers: owner.headers })).status).toBe(404);
    expect((await api.req("PATCH", path, { headers: owner.headers, body: { completed: false } })).status).toBe(404);
  });

  test("url follows X-Forwarded-Proto and X-Forwarded-Host", async () => {
    const r = await api.req("POST", "/tasks", {
      headers: { ...owner.headers, "x-forwarded-proto": "https", "x-forwarded-host": "todo.example.com" },
      body: { title: "behind a proxy" },
    });
    expect(r.body.url).toBe(`https://todo.example.com/tasks/${r.body.id}`);
  });

  test("CORS preflight allows the tenant and Authorization headers", async () => {
    const r = await api.req("OPTIONS", "/tasks", {
      headers: { origin: "https://www.todobackend.com", "access-control-request-method": "PATCH", "access-control-request-headers": "tenant, authorization" },
    });
    expect(r.status).toBe(204);
    expect(r.headers.get("access-control-allow-origin")).toBe("*");
    expect(r.headers.get("access-control-allow-headers")).toContain("tenant");
    expect(r.headers.get("access-control-allow-headers")).toContain("authorization");
    expect(r.headers.get("access-control-allow-methods")).toContain("PATCH");
    const list = await api.req("GET", "/tasks", { headers: { ...owner.headers, origin: "https://www.todobackend.com" } });
    expect(list.headers.get("access-control-expose-headers")).toContain("x-total-count");
  });

  test("all fields round-trip; SQL-looking text is stored verbatim", async () => {
    const body = {
      title: "'); drop table tasks; --",
      description: "Robert'); DROP SCHEMA public CASCADE;-- and $$ and \\ and 🦆",
      priority: "high",
      due_at: "2031-05-04T12:30:00.000Z",
      tags: ["a'b", "x; y"],
      order: -5,
      completed: true,
      assignee_id: owner.user.id,
    };
    const r = await api.req("POST", "/tasks", { headers: owner.headers, body });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ ...body, created_by: owner.user.id });
    expect((await api.req("GET", `/tasks/${r.body.id}`, { headers: owner.headers })).body).toMatchObject(body);
    const [row] = await api.sql`select title, description from ${api.sql(owner.schema)}.tasks where id = ${r.body.id}`;
    expect(row).toEqual({ title: body.title, description: body.description });
  });

  test("assignee_id must be a user of the same tenant", async () => {
    const other = await api.signUp();
    const r = await api.req("POST", "/tasks", { headers: owner.headers, body: { title: "x", assignee_id: other.user.id + 1000 } });
    expect(r.status).toBe(422);
    expect(r.body.error.details).toEqual([{ path: "/assignee_id" }]);
    const foreign = await api.req("POST", "/tasks", { headers: other.headers, body: { title: "y", assignee_id: 424242 } });
    expect(foreign.status).toBe(422);
  });
});

describe("clearing", () => {
  test("?completed=true clears only completed tasks, for members too; clearing all is for admins", async () => {
    const team = await api.signUp();
    const member = { email: `m.${crypto.randomUUID().slice(0, 8)}@t.test`, password: "member password", first_name: "M", last_name: "M" };
    expect((await api.req("POST", "/users", { headers: team.headers, body: member })).status).toBe(201);
    const login = await api.req("POST", "/auth/login", { body: { email: member.email, password: member.password } });
    const memberHeaders = { tenant: team.schema, authorization: `Bearer ${login.body.token}` };
    for (const completed of [true, false, true]) await api.req("POST", "/tasks", { headers: team.headers, body: { title: "t", completed } });

    expect((await api.req("DELETE", "/tasks", { headers: memberHeaders })).status).toBe(403);
    expect((await api.req("GET", "/tasks", { headers: team.headers })).body).toHaveLength(3);
    expect((await api.req("DELETE", "/tasks?completed=true", { headers: memberHeaders })).status).toBe(204);
    const left = (await api.req("GET", "/tasks", { headers: team.headers })).body;
    expect(left.map((t: { completed: boolean }) => t.completed)).toEqual([false]);
    expect((await api.req("DELETE", "/tasks", { headers: team.headers })).status).toBe(204);
    expect((await api.req("GET", "/tasks", { headers: team.headers })).body).toEqual([]);
  });
});

describe("listing against an in-memory model", () => {
  type T = { id: number; title: string; description: string; completed: boolean; order: number; priority: string; due_at: string | null; assignee_id: number | null; tags: string[]; created_at: string };
  let tenant: Awaited<ReturnType<TestApp["signUp"]>>;
  let all: T[] = [];
  let users: number[] = [];

  beforeAll(async () => {
    tenant = await api.signUp();
    users = [tenant.user.id];
    for (let i = 0; i < 2; i++) {
      const r = await api.req("POST", "/users", {
        headers: tenant.headers,
        body: { email: `u${i}.${crypto.randomUUID().slice(0, 8)}@t.test`, password: "a long password", first_name: faker.person.firstName(), last_name: "X" },
      });
      users.push(r.body.id);
    }
    faker.seed(42);
    for (let i = 0; i < 60; i++) {
      const body = {
        title: `${faker.hacker.verb()} ${faker.hacker.noun()}`,
        description: faker.lorem.sentence(),
        completed: faker.datatype.boolean(),
        order: faker.number.int({ min: 0, max: 20 }),
        priority: faker.helpers.arrayElement(["low", "normal", "high"]),
        due_at: faker.helpers.maybe(() => faker.date.soon({ days: 30, refDate: "2030-01-01" }).toISOString()) ?? null,
        assignee_id: faker.helpers.maybe(() => faker.helpers.arrayElement(users)) ?? null,
        tags: faker.helpers.arrayElements(["home", "work", "urgent", "docs"], { min: 0, max: 2 }),
      };
      const r = await api.req("POST", "/tasks", { headers: tenant.headers, body });
      expect(r.status).toBe(201);
      all.push(r.body);
    }
  });

  const rank = { low: 1, normal: 2, high: 3 } as Record<string, number>;
  const key = (sort: string, t: T): number | null =>
    sort === "priority" ? rank[t.priority]! : sort === "order" ? t.order : sort === "due_at" ? (t.due_at ? Date.parse(t.due_at) : null) : Date.parse(t.created_at);

  function model(filter: (t: T) => boolean, sort = "order", desc = false) {
    return all.filter(filter).sort((x, y) => {
      const [a, b] = [key(sort, x), key(sort, y)];
      if (a === null || b === null) return a === b ? (desc ? y.id - x.id : x.id - y.id) : a === null ? 1 : -1;
      return (desc ? b - a : a - b) || (desc ? y.id - x.id : x.id - y.id);
    });
  }

  async function list(query: string) {
    const r = await api.req("GET", `/tasks?${query}`, { headers: tenant.headers });
    expect(r.status).toBe(200);
    return { ids: r.body.map((t: T) => t.id), total: Number(r.headers.get("x-total-count")), link: r.headers.get("link")! };
  }

  test("filters match the model, each alone and combined", async () => {
    const cases: [string, (t: T) => boolean][] = [
      ["completed=true", (t) => t.completed],
      ["completed=false", (t) => !t.completed],
      [`assignee=${users[1]}`, (t) => t.assignee_id === users[1]],
      ["tag=work", (t) => t.tags.includes("work")],
      ["q=" + encodeURIComponent(all[7]!.title.split(" ")[1]!), (t) => `${t.title} ${t.description}`.toLowerCase().includes(all[7]!.title.split(" ")[1]!.toLowerCase())],
      ["due_before=2030-01-15T00:00:00Z", (t) => t.due_at !== null && Date.parse(t.due_at) < Date.parse("2030-01-15T00:00:00Z")],
      ["due_after=2030-01-15T00:00:00Z", (t) => t.due_at !== null && Date.parse(t.due_at) > Date.parse("2030-01-15T00:00:00Z")],
      ["completed=false&tag=home&due_after=2030-01-01T00:00:00Z", (t) => !t.completed && t.tags.includes("home") && t.due_at !== null && Date.parse(t.due_at) > Date.parse("2030-01-01T00:00:00Z")],
    ];
    for (const [query, filter] of cases) {
      const expected = model(filter);
      const got = await list(`${query}&limit=100`);
      expect({ query, ids: got.ids, total: got.total }).toEqual({ query, ids: expected.map((t) => t.id), total: expected.length });
    }
  });

  test("every sort, both directions, matches the model", async () => {
    for (const sort of ["order", "created_at", "due_at", "priority"])
      for (const desc of [false, true]) {
        const got = await list(`sort=${desc ? "-" : ""}${sort}&limit=100`);
        expect({ sort, desc, ids: got.ids }).toEqual({ sort, desc, ids: model(() => true, sort, desc).map((t) => t.id) });
      }
  });

  test("pages walk the whole set once, with X-Total-Count and Link", async () => {
    const expected = model((t) => !t.completed, "priority", true).map((t) => t.id);
    const seen: number[] = [];
    let next: string | undefined = "/tasks?completed=false&sort=-priority&limit=7&offset=0";
    while (next) {
      const r = await api.req("GET", next, { headers: tenant.headers });
      expect(Number(r.headers.get("x-total-count"))).toBe(expected.length);
      seen.push(...r.body.map((t: T) => t.id));
      const link = /<([^>]+)>; rel="next"/.exec(r.headers.get("link")!)?.[1];
      next = link && new URL(link).pathname + new URL(link).search;
    }
    expect(seen).toEqual(expected);
    const past = await list("completed=false&offset=500");
    expect(past).toMatchObject({ ids: [], total: expected.length });
  });

  test("bad query parameters are a 422 naming the parameter", async () => {
    for (const query of ["limit=0", "limit=101", "offset=-1", "sort=title", "sort=-password_hash", "completed=maybe", "due_before=yesterday", "assignee=me", "colour=red"]) {
      const r = await api.req("GET", `/tasks?${query}`, { headers: tenant.headers });
      expect({ query, status: r.status }).toEqual({ query, status: 422 });
      expect(r.body.error.code).toBe("validation_failed");
      expect(r.body.error.details.length).toBeGreaterThan(0);
    }
  });
});
