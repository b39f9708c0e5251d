import { describe, expect, test } from "bun:test";
import { AppError } from "../../src/errors";
import { origin, page, pageHeaders, rowId, sorting } from "../../src/http/params";

const request = (url: string, headers: Record<string, string> = {}) => new Request(url, { headers });

describe("paging", () => {
  test("page defaults to 20 from 0 and refuses out-of-range values with the field", () => {
    expect(page({})).toEqual({ limit: 20, offset: 0 });
    expect(() => page({ limit: 0 })).toThrow(AppError);
    expect(() => page({ limit: 101 })).toThrow(/limit/);
    expect(() => page({ offset: -1 })).toThrow(/offset/);
  });

  test("Link names first, prev, next and last pages, keeping the other parameters", () => {
    const h = pageHeaders("http://10.0.0.1:3000/tasks?limit=10&completed=true&offset=10", "http://api.test", 35, 10, 10);
    expect(h["x-total-count"]).toBe("35");
    expect(h.link).toBe(
      [
        '<http://api.test/tasks?completed=true&limit=10&offset=0>; rel="first"',
        '<http://api.test/tasks?completed=true&limit=10&offset=0>; rel="prev"',
        '<http://api.test/tasks?completed=true&limit=10&offset=20>; rel="next"',
        '<http://api.test/tasks?completed=true&limit=10&offset=30>; rel="last"',
      ].join(", "),
    );
    expect(pageHeaders("http://api.test/tasks", "http://api.test", 0, 20, 0).link).toBe(
      '<http://api.test/tasks?limit=20&offset=0>; rel="first", <http://api.test/tasks?limit=20&offset=0>; rel="last"',
    );
  });

  test("sorting reads a leading minus as descending", () => {
    expect(sorting(undefined, "order")).toEqual({ sort: "order", desc: false });
    expect(sorting<"order" | "due_at">("-due_at", "order")).toEqual({ sort: "due_at", desc: true });
  });

  test("ids outside int4 name nothing", () => {
    expect(rowId(7, "task")).toBe(7);
    expect(() => rowId(0, "task")).toThrow(/task 0 not found/);
    expect(() => rowId(2 ** 31, "task")).toThrow(AppError);
  });
});

describe("origin", () => {
  test("is the request's own, or what a proxy forwarded when it is well-formed", () => {
    expect(origin(request("http://localhost:3000/tasks"))).toBe("http://localhost:3000");
    expect(origin(request("http://10.0.0.5:3000/x", { "x-forwarded-proto": "https", "x-forwarded-host": "todo.example.com" }))).toBe(
      "https://todo.example.com",
    );
    expect(origin(request("http://a:1/x", { "x-forwarded-proto": "javascript", "x-forwarded-host": "evil.test/<script>" }))).toBe("http://a:1");
  });
});
