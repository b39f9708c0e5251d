// Bad input of every kind: a clear error with the right status, one error shape, and no change.
import { beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "../support/http";

const api = await testApp({ bodyLimit: 64 * 1024 });
let me: Awaited<ReturnType<TestApp["signUp"]>>;
let taskId: number;
const count = async () => (await api.sql`select count(*)::int as n, max(updated_at) as at from ${api.sql(me.schema)}.tasks`)[0];

beforeAll(async () => {
  me = await api.signUp();
  taskId = (await api.req("POST", "/tasks", { headers: me.headers, body: { title: "original" } })).body.id;
});

const shape = (body: any) => {
  expect(Object.keys(body)).toEqual(["error"]);
  expect(body.error.code).toBeString();
  expect(body.error.message).toBeString();
  expect(JSON.stringify(body)).not.toMatch(/select |insert |update |\bat .*\.ts|postgres/i);
};

describe("bodies", () => {
  test("malformed JSON is a 400", async () => {
    for (const raw of ["{", '{"title": "x"', "title=x", "[1,2", "\u0000"]) {
      const r = await api.req("POST", "/tasks", { headers: { ...me.headers, "content-type": "application/json" }, raw });
      expect({ raw, status: r.status }).toEqual({ raw, status: 400 });
      shape(r.body);
    }
  });

  test("wrong types, missing fields, extra fields and huge strings are a 422 naming the field; nothing changes", async () => {
    const before = await count();
    const cases: [unknown, string][] = [
      [{}, "/title"],
      [{ title: 42 }, "/title"],
      [{ title: "" }, "/title"],
      [{ title: "x".repeat(501) }, "/title"],
      [{ title: "ok", completed: "yes" }, "/completed"],
      [{ title: "ok", order: 1.5 }, "/order"],
      [{ title: "ok", order: 2 ** 40 }, "/order"],
      [{ title: "ok", priority: "urgent" }, "/priority"],
      [{ title: "ok", due_at: "next tuesday" }, "/due_at"],
      [{ title: "ok", tags: "work" }, "/tags"],
      [{ title: "ok", tags: Array(21).fill("x") }, "/tags"],
      [{ title: "ok", assignee_id: "1; drop table users" }, "/assignee_id"],
      [{ title: "ok", created_by: 1 }, "/created_by"],
      [{ title: "ok", id: 7 }, "/id"],
      [[{ title: "array" }], "/0"],
      ["just a string", "/title"],
    ];
    for (const [body, path] of cases) {
      const r = await api.req("POST", "/tasks", { headers: me.headers, body });
      expect({ body, status: r.status }).toEqual({ body, status: 422 });
      shape(r.body);
      expect(r.body.error.details.map((d: { path: string }) => d.path)).toContain(path);
    }
    const patch = await api.req("PATCH", `/tasks/${taskId}`, { headers: me.headers, body: { priority: "urgent" } });
    expect(patch.status).toBe(422);
    expect(patch.body.error.details[0].message).toContain("low, normal, high");
    expect(await count()).toEqual(before);
    expect((await api.req("GET", `/tasks/${taskId}`, { headers: me.headers })).body.title).toBe("original");
  });

  test("a body over the limit is a 413, with a length or streamed without one, over a real socket", async () => {
    const server = api.app.listen({ port: 0, hostname: "127.0.0.1" }).server!;
    try {
      const before = await count();
      const url = `http://127.0.0.1:${server.port}/tasks`;
      const big = JSON.stringify({ title: "x", description: "y".repeat(70 * 1024) });
      const sized = await fetch(url, { method: "POST", headers: { ...me.headers, "content-type": "application/json" }, body: big });
      expect(sized.status).toBe(413);
      shape(await sized.json());
      const stream = new ReadableStream({
        start(controller) {
          for (let i = 0; i < 40; i++) controller.enqueue(new TextEncoder().encode("y".repeat(8 * 1024)));
          controller.close();
        },
      });
      const streamed = await fetch(url, { method: "POST", headers: { ...me.headers, "content-type": "application/json" }, body: stream }).catch((e) => e);
      expect(streamed instanceof Error || streamed.status === 413).toBe(true);
      expect(await count()).toEqual(before);
    } finally {
      await api.app.stop();
    }
  });

  test("a body without a content type is still read as JSON", async () => {
    const r = await api.req("POST", "/tasks", { headers: me.headers, raw: JSON.stringify({ title: "no content type" }) });
    expect(r.status).toBe(201);
  });
});

describe("paths and ids", () => {
  test("unknown routes and unknown or malformed ids are a 404 in the same shape", async () => {
    for (const path of ["/nope", "/tasks/abc", "/tasks/0", "/tasks/99999999", "/tasks/99999999999", "/tasks/1;drop", "/users/-1"]) {
      const r = await api.req("GET", path, { headers: me.headers });
      expect({ path, status: r.status }).toEqual({ path, status: 404 });
      shape(r.body);
    }
  });

  test("a malformed Authorization header is a 401, never a 500", async () => {
    for (const authorization of ["Bearer", "Bearer ", `Bearer ${"x".repeat(5000)}`, "Bearer a b c", "Bearer \u00e9\u00e9"]) {
      const r = await api.req("GET", "/tasks", { headers: { tenant: me.schema, authorization } });
      expect({ authorization: authorization.slice(0, 20), status: r.status }).toEqual({ authorization: authorization.slice(0, 20), status: 401 });
    }
  });
});

describe("what PostgreSQL cannot store, and what would cost the server", () => {
  test("NUL or half a surrogate pair in any string is a 422 naming the field; nothing changes", async () => {
    const before = await count();
    const cases: [string, string, unknown, string][] = [
      ["POST", "/tasks", { title: "a\u0000b" }, "/title"],
      ["POST", "/tasks", { title: "ok", description: "x\u0000" }, "/description"],
      ["POST", "/tasks", { title: "ok", tags: ["fine", "\u0000"] }, "/tags/1"],
      ["POST", "/tasks", { title: "half \ud800 pair" }, "/title"],
      ["PATCH", `/tasks/${taskId}`, { title: "\u0000" }, "/title"],
      ["PATCH", "/users/1", { first_name: "Ada\u0000" }, "/first_name"],
      ["POST", "/auth/register", { company_name: "Nul\u0000Co", email: "nul@x.test", password: "long enough", first_name: "A", last_name: "B" }, "/company_name"],
    ];
    for (const [method, path, body, field] of cases) {
      const r = await api.req(method, path, { headers: me.headers, body });
      expect({ path, field, status: r.status }).toEqual({ path, field, status: 422 });
      shape(r.body);
      expect(r.body.error.details.map((d: { path: string }) => d.path)).toEqual([field]);
    }
    for (const query of ["q=a%00b", "tag=%00", "completed=true&q=%00"]) {
      const r = await api.req("GET", `/tasks?${query}`, { headers: me.headers });
      expect({ query, status: r.status }).toEqual({ query, status: 422 });
    }
    expect(await count()).toEqual(before);
    expect((await api.req("GET", `/tasks/${taskId}`, { headers: me.headers })).body.title).toBe("original");
  });

  test("dates outside years 0001–9999 are a 422 naming the field", async () => {
    for (const due_at of ["+275760-09-13T00:00:00Z", "-001000-01-01T00:00:00Z", "0000-01-01T00:00:00Z", "10000-01-01T00:00:00Z"]) {
      const r = await api.req("POST", "/tasks", { headers: me.headers, body: { title: "when", due_at } });
      expect({ due_at, status: r.status }).toEqual({ due_at, status: 422 });
      expect(r.body.error.details.map((d: { path: string }) => d.path)).toContain("/due_at");
    }
    for (const bound of ["due_before", "due_after"]) {
      const r = await api.req("GET", `/tasks?${bound}=${encodeURIComponent("+275760-09-13T00:00:00Z")}`, { headers: me.headers });
      expect({ bound, status: r.status }).toEqual({ bound, status: 422 });
    }
    const edge = await api.req("POST", "/tasks", { headers: me.headers, body: { title: "edge", due_at: "9999-12-31T23:59:59Z" } });
    expect(edge.status).toBe(201);
    await api.req("DELETE", `/tasks/${edge.body.id}`, { headers: me.headers });
  });

  test("JSON nested deeper than 32 levels is refused before parsing, unauthenticated or not, with no echo of it", async () => {
    for (const raw of ["[".repeat(200_000) + "]".repeat(200_000), JSON.stringify({ title: "deep", tags: JSON.parse("[".repeat(40) + "]".repeat(40)) })]) {
      for (const headers of [me.headers, {}]) {
        const r = await api.req("POST", "/tasks", { headers: { ...headers, "content-type": "application/json" }, raw });
        expect(r.status).toBe(400);
        expect(r.body.error.code).toBe("body_too_deep");
        expect(JSON.stringify(r.body).length).toBeLessThan(300);
      }
    }
    const tenThousand = { title: "deep tags", tags: JSON.parse("[".repeat(10_000) + "]".repeat(10_000)) };
    expect((await api.req("POST", "/tasks", { headers: me.headers, raw: JSON.stringify(tenThousand) })).status).toBe(400);
  });
});
