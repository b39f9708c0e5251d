// Tasks through the typed client (Eden Treaty, so a route whose shape changes fails `tsc`):
// Todo-Backend behaviour, and filters, sorting and paging checked against a plain in-memory
// computation over faker-generated data. Deliberately malformed requests go through `req`.
import { faker } from "@faker-js/faker";
import { beforeAll, describe, expect, test } from "bun:test";
import { claimKey } from "../../src/db/idempotency";
import { problemOf, testApp, type TestApp } from "../support/http";

const api = await testApp();
let owner: Awaited<ReturnType<TestApp["signUp"]>>;
let client: ReturnType<TestApp["client"]>;

beforeAll(async () => {
  owner = await api.signUp();
  client = api.client(owner.headers);
});

describe("Todo-Backend conventions", () => {
  test("create → 201 with an absolute url that reads back; partial PATCH; DELETE → 204 then 404", async () => {
    const created = await client.tasks.post({ title: "walk the dog", order: 3 });
    expect(created.status).toBe(201);
    expect(created.data).toMatchObject({ title: "walk the dog", completed: false, order: 3, priority: "normal", tags: [], due_at: null });
    const { id, url, updated_at } = created.data!;
    expect(url).toBe(`http://localhost/tasks/${id}`);
    expect(created.response.headers.get("location")).toBe(url);
    const task = client.tasks({ id });

    const patched = await task.patch({ completed: true });
    expect(patched.data).toMatchObject({ title: "walk the dog", completed: true, order: 3, priority: "normal" });
    const renamed = await task.patch({ title: "walk the cat" });
    expect(renamed.data).toMatchObject({ title: "walk the cat", completed: true, order: 3, priority: "normal" });
    expect(new Date(renamed.data!.updated_at).getTime()).toBeGreaterThan(new Date(updated_at).getTime());

    expect((await task.get()).data).toEqual(renamed.data!);
    expect((await task.delete()).status).toBe(204);
    expect((await task.get()).status).toBe(404);
    expect((await task.delete()).status).toBe(404);
    expect((await task.patch({ completed: false })).status).toBe(404);
  });

  test("url follows X-Forwarded-Proto and X-Forwarded-Host", async () => {
    const forwarded = api.client({ ...owner.headers, "x-forwarded-proto": "https", "x-forwarded-host": "todo.example.com" });
    const { data } = await forwarded.tasks.post({ title: "behind a proxy" });
    expect(data!.url).toBe(`https://todo.example.com/tasks/${data!.id}`);
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
    const list = await api.client({ ...owner.headers, origin: "https://www.todobackend.com" }).tasks.get();
    expect(list.response.headers.get("access-control-expose-headers")).toContain("x-total-count");
  });

  test("all fields round-trip; SQL-looking text is stored verbatim", async () => {
    const body = {
      title: "'); drop table tasks; --",
      description: "Robert'); DROP SCHEMA public CASCADE;-- and $$ and \\ and 🦆",
      priority: "high" as const,
      due_at: "2031-05-04T12:30:00.000Z",
      tags: ["a'b", "x; y"],
      order: -5,
      completed: true,
      assignee_id: owner.user.id,
    };
    const r = await client.tasks.post(body);
    expect(r.status).toBe(201);
    expect(r.data).toMatchObject({ ...body, created_by: owner.user.id });
    expect((await client.tasks({ id: r.data!.id }).get()).data).toMatchObject(body);
    const [row] = await api.sql`select title, description from ${api.sql(owner.schema)}.tasks where id = ${r.data!.id}`;
    expect(row).toEqual({ title: body.title, description: body.description });
  });

  test("assignee_id must be a user of the same tenant", async () => {
    const other = await api.signUp();
    const r = await client.tasks.post({ title: "x", assignee_id: other.user.id + 1000 });
    expect(r.status).toBe(422);
    expect(problemOf(r)!.details).toEqual([{ path: "/assignee_id" }]);
    const foreign = await api.client(other.headers).tasks.post({ title: "y", assignee_id: 424242 });
    expect(foreign.status).toBe(422);
  });
});

describe("conditional requests", () => {
  const etagOf = (r: { response: Response }) => r.response.headers.get("etag")!;

  test("GET /tasks/:id: a strong ETag; If-None-Match with it → 304 and no body; after a change, 200 and a new ETag", async () => {
    const created = await client.tasks.post({ title: "poll me" });
    const etag = etagOf(created);
    expect(etag).toMatch(/^"[^"]+"$/);
    const task = client.tasks({ id: created.data!.id });
    const first = await task.get();
    expect(etagOf(first)).toBe(etag);

    for (const match of [etag, `W/${etag}`, `"nope", ${etag}`, "*"]) {
      const r = await task.get({ headers: { "if-none-match": match } });
      expect({ match, status: r.status }).toEqual({ match, status: 304 });
      expect(String(r.error!.value)).toBe(""); // what Eden read from the body
      expect(r.response.headers.get("content-type")).toBeNull();
      expect(etagOf(r)).toBe(etag);
    }
    expect((await task.get({ headers: { "if-none-match": '"nope"' } })).status).toBe(200);

    const changed = await task.patch({ completed: true });
    expect(etagOf(changed)).not.toBe(etag);
    const fresh = await task.get({ headers: { "if-none-match": etag } });
    expect(fresh.status).toBe(200);
    expect(fresh.data!.completed).toBe(true);
    expect(etagOf(fresh)).toBe(etagOf(changed));
  });

  test("GET /tasks: the page's ETag → 304 while nothing on it changes; a create, change or delete gives a new one", async () => {
    const team = await api.signUp();
    const tasks = api.client(team.headers).tasks;
    const empty = await tasks.get();
    // Two tenants' empty lists are not the same resource: their tags differ.
    expect(etagOf(empty)).not.toBe(etagOf(await client.tasks.get({ query: { q: "no such task anywhere" } })));
    const seen = new Set([etagOf(empty)]);
    const { data } = await tasks.post({ title: "one" });
    const steps = [() => tasks({ id: data!.id }).patch({ title: "one, renamed" }), () => tasks.post({ title: "two" }), () => tasks({ id: data!.id }).delete()];
    let current = etagOf(await tasks.get());
    for (const step of [undefined, ...steps]) {
      if (step) {
        await step();
        const previous = current;
        const list = await tasks.get({ headers: { "if-none-match": previous } });
        expect(list.status).toBe(200);
        current = etagOf(list);
      }
      expect(seen.has(current)).toBe(false);
      seen.add(current);
      const again = await tasks.get({ headers: { "if-none-match": current } });
      expect(again.status).toBe(304);
      expect(String(again.error!.value)).toBe("");
    }
    // A page of the list is its own resource.
    expect(etagOf(await tasks.get({ query: { limit: 1, offset: 1 } }))).not.toBe(current);
  });

  test("If-Match: a stale ETag → 412 and the task unchanged; the current one → the change and its new ETag", async () => {
    const created = await client.tasks.post({ title: "shared", order: 1 });
    const task = client.tasks({ id: created.data!.id });
    const read = etagOf(created);
    const mine = await task.patch({ order: 2 }, { headers: { "if-match": read } });
    expect(mine.status).toBe(200);
    const current = etagOf(mine);
    expect(current).not.toBe(read);

    const theirs = await task.patch({ title: "overwritten" }, { headers: { "if-match": read } });
    expect(theirs.status).toBe(412);
    expect(problemOf(theirs)!.code).toBe("precondition_failed");
    expect((await task.patch({}, { headers: { "if-match": read } })).status).toBe(412);
    expect((await task.delete(undefined, { headers: { "if-match": read } })).status).toBe(412);
    // Strong comparison: a weak tag never matches; nor does another task's tag.
    expect((await task.patch({ title: "weak" }, { headers: { "if-match": `W/${current}` } })).status).toBe(412);
    const other = await client.tasks.post({ title: "other" });
    expect((await task.patch({ title: "theirs" }, { headers: { "if-match": etagOf(other) } })).status).toBe(412);
    const after = await task.get();
    expect(after.data).toMatchObject({ title: "shared", order: 2 });
    expect(etagOf(after)).toBe(current);

    expect((await task.patch({ title: "any version" }, { headers: { "if-match": "*" } })).status).toBe(200);
    const latest = etagOf(await task.get());
    expect((await task.delete(undefined, { headers: { "if-match": `"stale", ${latest}` } })).status).toBe(204);
    expect((await task.patch({ title: "gone" }, { headers: { "if-match": latest } })).status).toBe(404);
  });

  test("two writes made with the same ETag: one wins, the other gets 412", async () => {
    const created = await client.tasks.post({ title: "race" });
    const task = client.tasks({ id: created.data!.id });
    const statuses = await Promise.all(["a", "b"].map((title) => task.patch({ title }, { headers: { "if-match": etagOf(created) } }).then((r) => r.status)));
    expect(statuses.sort()).toEqual([200, 412]);
  });

  test("every change gives a new ETag, also several in one millisecond and those a foreign key makes", async () => {
    const created = await client.tasks.post({ title: "busy", assignee_id: owner.user.id });
    const task = client.tasks({ id: created.data!.id });
    const tags = [etagOf(created)];
    for (let i = 0; i < 5; i++) tags.push(etagOf(await task.patch({ order: i })));
    expect(new Set(tags).size).toBe(tags.length);

    const member = await client.users.post({ email: `gone.${crypto.randomUUID().slice(0, 8)}@t.test`, password: "member password", first_name: "G", last_name: "One" });
    const assigned = await task.patch({ assignee_id: member.data!.id });
    expect((await client.users({ id: member.data!.id }).delete()).status).toBe(204);
    const after = await task.get({ headers: { "if-none-match": etagOf(assigned) } });
    expect(after.status).toBe(200);
    expect(after.data!.assignee_id).toBeNull();
  });
});

describe("Idempotency-Key", () => {
  const count = async (schema: string) => (await api.sql`select count(*)::int as n from ${api.sql(schema)}.tasks`)[0].n as number;
  const newKey = () => crypto.randomUUID();
  const reply = (r: { status: number; data: unknown; response: Response }) => ({
    status: r.status,
    location: r.response.headers.get("location"),
    etag: r.response.headers.get("etag"),
    body: r.data,
  });

  test("two POSTs with one key → one task and the same response (status, Location, ETag, body); without a key, two", async () => {
    const team = await api.signUp();
    const tasks = api.client(team.headers).tasks;
    const key = newKey();
    const first = await tasks.post({ title: "pay the invoice", tags: ["money"] }, { headers: { "idempotency-key": key } });
    expect(first.status).toBe(201);
    // The draft writes the key as a quoted string; the bare form is the same key.
    const again = await tasks.post({ title: "pay the invoice", tags: ["money"] }, { headers: { "idempotency-key": `"${key}"` } });
    expect(reply(again)).toEqual(reply(first));
    expect(await count(team.schema)).toBe(1);
    // The same body in another key order is the same request.
    const reordered = await api.req("POST", "/tasks", { headers: { ...team.headers, "idempotency-key": key }, raw: '{"tags":["money"],"title":"pay the invoice"}' });
    expect(reordered.body).toEqual(first.data!);

    await tasks.post({ title: "no key" });
    await tasks.post({ title: "no key" });
    expect(await count(team.schema)).toBe(3);
  });

  test("the same key with another body, or on another route → 422, nothing created", async () => {
    const team = await api.signUp();
    const client = api.client(team.headers);
    const key = newKey();
    expect((await client.tasks.post({ title: "one" }, { headers: { "idempotency-key": key } })).status).toBe(201);
    const other = await client.tasks.post({ title: "two" }, { headers: { "idempotency-key": key } });
    expect(other.status).toBe(422);
    expect(problemOf(other)!.code).toBe("idempotency_key_reused");
    const elsewhere = await client.users.post(
      { email: `k.${crypto.randomUUID().slice(0, 8)}@t.test`, password: "some password", first_name: "K", last_name: "K" },
      { headers: { "idempotency-key": key } },
    );
    expect(elsewhere.status).toBe(422);
    expect(await count(team.schema)).toBe(1);
    expect((await client.users.get()).data).toHaveLength(1);
  });

  test("while the first request holds the key → 409; once it is done, the request runs", async () => {
    const team = await api.signUp();
    const tasks = api.client(team.headers).tasks;
    const key = newKey();
    // Another transaction holds the key's claim, as a request still in flight would.
    const blocked = await api.sql.begin(async (tx) => {
      expect(await claimKey(tx, team.schema, team.user.id, key)).toBe(true);
      return tasks.post({ title: "slow" }, { headers: { "idempotency-key": key } });
    });
    expect(blocked.status).toBe(409);
    expect(problemOf(blocked)!.code).toBe("idempotency_key_in_use");
    expect(await count(team.schema)).toBe(0);
    expect((await tasks.post({ title: "slow" }, { headers: { "idempotency-key": key } })).status).toBe(201);
  });

  test("the same key sent five times at once: one task; every answer is that 201 or a 409", async () => {
    const team = await api.signUp();
    const tasks = api.client(team.headers).tasks;
    const key = newKey();
    const replies = await Promise.all(Array.from({ length: 5 }, () => tasks.post({ title: "at once" }, { headers: { "idempotency-key": key } })));
    expect(await count(team.schema)).toBe(1);
    const created = replies.filter((r) => r.status === 201);
    expect(created.length).toBeGreaterThanOrEqual(1);
    for (const r of created) expect(reply(r)).toEqual(reply(created[0]!));
    expect(replies.every((r) => r.status === 201 || r.status === 409)).toBe(true);
  });

  test("keys are per user; after 24 hours a key is free again, and expired keys are pruned by later writes", async () => {
    const team = await api.signUp();
    const admin = api.client(team.headers);
    const member = { email: `m.${crypto.randomUUID().slice(0, 8)}@t.test`, password: "member password", first_name: "M", last_name: "M" };
    await admin.users.post(member);
    const login = await api.client().auth.login.post({ email: member.email, password: member.password });
    const asMember = api.client({ tenant: team.schema, authorization: `Bearer ${login.data!.token}` });
    const key = newKey();
    const mine = await admin.tasks.post({ title: "mine" }, { headers: { "idempotency-key": key } });
    const theirs = await asMember.tasks.post({ title: "mine" }, { headers: { "idempotency-key": key } });
    expect(theirs.status).toBe(201);
    expect(theirs.data!.id).not.toBe(mine.data!.id);

    const keys = api.sql`${api.sql(team.schema)}.idempotency_keys`;
    for (let i = 0; i < 3; i++) await admin.tasks.post({ title: `old ${i}` }, { headers: { "idempotency-key": newKey() } });
    await api.sql`update ${keys} set created_at = now() - interval '25 hours'`;
    const fresh = await admin.tasks.post({ title: "mine" }, { headers: { "idempotency-key": key } });
    expect(fresh.status).toBe(201);
    expect(fresh.data!.id).not.toBe(mine.data!.id);
    // That write pruned every expired key (up to 16 a write) and stored its own.
    expect((await api.sql`select count(*)::int as n from ${keys}`)[0].n).toBe(1);
  });

  test("a malformed key is a 400", async () => {
    for (const key of ["", "x".repeat(256), "caf\u00e9", '"unterminated'])
      expect({ key, status: (await api.req("POST", "/tasks", { headers: { ...owner.headers, "idempotency-key": key }, body: { title: "x" } })).status }).toEqual({ key, status: 400 });
  });
});

describe("clearing", () => {
  test("?completed=true clears only completed tasks, for members too; clearing all is for admins", async () => {
    const team = await api.signUp();
    const admin = api.client(team.headers);
    const member = { email: `m.${crypto.randomUUID().slice(0, 8)}@t.test`, password: "member password", first_name: "M", last_name: "M" };
    expect((await admin.users.post(member)).status).toBe(201);
    const login = await api.client().auth.login.post({ email: member.email, password: member.password });
    const asMember = api.client({ tenant: team.schema, authorization: `Bearer ${login.data!.token}` });
    for (const completed of [true, false, true]) await admin.tasks.post({ title: "t", completed });

    expect((await asMember.tasks.delete()).status).toBe(403);
    expect((await admin.tasks.get()).data).toHaveLength(3);
    expect((await asMember.tasks.delete(undefined, { query: { completed: true } })).status).toBe(204);
    const left = (await admin.tasks.get()).data!;
    expect(left.map((t) => t.completed)).toEqual([false]);
    expect((await admin.tasks.delete()).status).toBe(204);
    expect((await admin.tasks.get()).data).toEqual([]);
  });
});

describe("listing against an in-memory model", () => {
  type T = { id: number; title: string; description: string; completed: boolean; order: number; priority: string; due_at: string | null; assignee_id: number | null; tags: string[]; created_at: string };
  let tenant: Awaited<ReturnType<TestApp["signUp"]>>;
  let typed: ReturnType<TestApp["client"]>;
  let all: T[] = [];
  let users: number[] = [];

  beforeAll(async () => {
    tenant = await api.signUp();
    typed = api.client(tenant.headers);
    users = [tenant.user.id];
    for (let i = 0; i < 2; i++) {
      const r = await typed.users.post({ email: `u${i}.${crypto.randomUUID().slice(0, 8)}@t.test`, password: "a long password", first_name: faker.person.firstName(), last_name: "X" });
      users.push(r.data!.id);
    }
    faker.seed(42);
    for (let i = 0; i < 60; i++) {
      const body = {
        title: `${faker.hacker.verb()} ${faker.hacker.noun()}`,
        description: faker.lorem.sentence(),
        completed: faker.datatype.boolean(),
        order: faker.number.int({ min: 0, max: 20 }),
        priority: faker.helpers.arrayElement(["low", "normal", "high"] as const),
        due_at: faker.helpers.maybe(() => faker.date.soon({ days: 30, refDate: "2030-01-01" }).toISOString()) ?? null,
        assignee_id: faker.helpers.maybe(() => faker.helpers.arrayElement(users)) ?? null,
        tags: faker.helpers.arrayElements(["home", "work", "urgent", "docs"], { min: 0, max: 2 }),
      };
      const r = await typed.tasks.post(body);
      expect(r.status).toBe(201);
      all.push(r.data!);
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
