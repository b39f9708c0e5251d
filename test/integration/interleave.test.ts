// Two tenants' requests interleaved on the same pooled connections (and, in CI, through PgBouncer
// in transaction mode): every row a tenant gets back is its own.
import { expect, test } from "bun:test";
import { testApp } from "../support/http";

test("2,000 interleaved requests of two tenants, 32 at a time: zero foreign rows", async () => {
  const api = await testApp();
  const tenants = [await api.signUp(), await api.signUp()];
  for (const t of tenants)
    for (let i = 0; i < 30; i++) await api.req("POST", "/tasks", { headers: t.headers, body: { title: `${t.schema}: task ${i}`, order: i } });

  let foreign = 0;
  let checked = 0;
  let next = 0;
  const own = (schema: string, task: { title: string; url: string }) => {
    checked++;
    if (!task.title.startsWith(`${schema}:`)) foreign++;
  };
  const worker = async () => {
    while (next < 2000) {
      const n = next++;
      const t = tenants[n % 2]!;
      const kind = n % 4;
      if (kind === 0) {
        const r = await api.req("GET", `/tasks?limit=30&sort=-order`, { headers: t.headers });
        expect(r.status).toBe(200);
        r.body.forEach((task: { title: string; url: string }) => own(t.schema, task));
      } else if (kind === 1) {
        const r = await api.req("GET", `/tasks/${1 + (n % 30)}`, { headers: t.headers });
        expect(r.status).toBe(200);
        own(t.schema, r.body);
      } else if (kind === 2) {
        const r = await api.req("PATCH", `/tasks/${1 + (n % 30)}`, { headers: t.headers, body: { completed: n % 3 === 0 } });
        expect(r.status).toBe(200);
        own(t.schema, r.body);
      } else {
        const r = await api.req("POST", "/tasks", { headers: t.headers, body: { title: `${t.schema}: load ${n}` } });
        expect(r.status).toBe(201);
        own(t.schema, r.body);
      }
    }
  };
  await Promise.all(Array.from({ length: 32 }, worker));
  expect(checked).toBeGreaterThan(10_000);
  expect(foreign).toBe(0);
  for (const t of tenants) {
    const [row] = await api.sql`select count(*)::int as n from ${api.sql(t.schema)}.tasks where title not like ${`${t.schema}:%`}`;
    expect(row!.n).toBe(0);
  }
});
