// Only on a Citus cluster (bun run test:citus starts one): tenants are placed on the workers, the
// node shows wherever tenants are listed, a tenant moves while it serves, the fleet rebalances.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { placements } from "../../src/db/citus";
import { testApp } from "../support/http";

const api = await testApp();
const admin = { authorization: `Bearer ${api.config.adminToken}` };
const made: string[] = [];
let workers: string[];

async function create(count: number) {
  const schemas = [];
  for (let i = 0; i < count; i++) {
    const r = await api.req("POST", "/cc/tenants", { headers: admin, body: { name: `Placed ${i}` } });
    expect(r.status).toBe(201);
    made.push(r.body.schema);
    schemas.push(r.body.schema as string);
  }
  return schemas;
}

const nodeOf = async (schema: string) => (await placements(api.sql, [schema]))!.get(schema)!;

beforeAll(async () => {
  workers = (await api.sql<{ node: string }[]>`select nodename || ':' || nodeport as node from pg_dist_node where shouldhaveshards order by nodeid`).map((r) => r.node);
  expect(workers).toHaveLength(2);
});
afterAll(async () => {
  for (const schema of made) await api.req("DELETE", `/cc/tenants/${schema}?confirm=${schema}`, { headers: admin });
});

describe("placement", () => {
  test("tenants created through /cc land on both workers; /cc and the CLI show each one's node", async () => {
    const schemas = await create(12);
    const listed = (await api.req("GET", "/cc/tenants", { headers: admin })).body.filter((t: { schema: string }) => schemas.includes(t.schema));
    expect(listed).toHaveLength(12);
    expect(new Set(listed.map((t: { node: string }) => t.node))).toEqual(new Set(workers));
    const one = await api.req("GET", `/cc/tenants/${schemas[0]}`, { headers: admin });
    expect(one.body.node).toBe(await nodeOf(schemas[0]!));
    const cli = Bun.spawn(["bun", join(import.meta.dir, "../../src/index.ts"), "tenant", "list", "--json"], { env: { ...process.env, DATABASE_URL: api.db.url }, stdout: "pipe" });
    const listedByCli = JSON.parse(await new Response(cli.stdout).text()).filter((t: { schema: string }) => schemas.includes(t.schema));
    expect(listedByCli.map((t: { node: string }) => t.node).sort()).toEqual(listed.map((t: { node: string }) => t.node).sort());
  });
});

describe("moving a tenant", () => {
  test("to the other worker while clients read and write it: no failed request, nothing lost", async () => {
    const me = await api.signUp();
    made.push(me.schema);
    const from = await nodeOf(me.schema);
    const to = workers.find((w) => w !== from)!;
    let running = true;
    const statuses: number[] = [];
    const slowest = { ms: 0 };
    let created = 0;
    const loop = async (i: number) => {
      while (running) {
        const t0 = performance.now();
        const r =
          i % 2
            ? await api.req("POST", "/tasks", { headers: me.headers, body: { title: `during the move ${i}` } })
            : await api.req("GET", "/tasks?limit=5", { headers: me.headers });
        if (i % 2 && r.status === 201) created++;
        statuses.push(r.status);
        slowest.ms = Math.max(slowest.ms, performance.now() - t0);
      }
    };
    const loops = [0, 1, 2, 3].map(loop);
    await Bun.sleep(300);
    const moved = await api.req("POST", `/cc/tenants/${me.schema}/move`, { headers: admin, body: { node: to } });
    await Bun.sleep(300);
    running = false;
    await Promise.all(loops);
    expect(moved.status).toBe(200);
    expect(moved.body).toMatchObject({ schema: me.schema, from, to });
    console.log(`moved ${me.schema} ${from} → ${to} in ${moved.body.ms} ms (${moved.body.mode}); ${statuses.length} requests meanwhile, slowest ${Math.round(slowest.ms)} ms`);
    expect(statuses.filter((s) => s >= 300)).toEqual([]);
    expect(await nodeOf(me.schema)).toBe(to);
    const [row] = await api.sql.unsafe(`select count(*)::int as n from "${me.schema}".tasks`);
    expect(row.n).toBe(created);
  });

  test("refusals: the node it is on (409), a node that is not one (422), an unknown tenant (404)", async () => {
    const [schema] = await create(1);
    expect((await api.req("POST", `/cc/tenants/${schema}/move`, { headers: admin, body: { node: await nodeOf(schema!) } })).status).toBe(409);
    expect((await api.req("POST", `/cc/tenants/${schema}/move`, { headers: admin, body: { node: "127.0.0.1:1" } })).status).toBe(422);
    expect((await api.req("POST", `/cc/tenants/${schema}/move`, { headers: admin, body: { node: "not a node" } })).status).toBe(422);
    expect((await api.req("POST", "/cc/tenants/t_nowhere_000/move", { headers: admin, body: { node: workers[0] } })).status).toBe(404);
  });
});

describe("rebalancing", () => {
  test("with every new tenant moved onto one worker, a rebalance by count spreads them again", async () => {
    const schemas = await create(6);
    for (const schema of schemas)
      if ((await nodeOf(schema)) !== workers[0]) expect((await api.req("POST", `/cc/tenants/${schema}/move`, { headers: admin, body: { node: workers[0] } })).status).toBe(200);
    const started = await api.req("POST", "/cc/rebalance", { headers: admin, body: { strategy: "by_shard_count" } });
    expect(started.status).toBe(202);
    expect(started.headers.get("location")).toBe("/cc/rebalance");
    let progress = started.body;
    for (let i = 0; i < 120 && !["finished", "failed", "cancelled"].includes(progress.state); i++) {
      await Bun.sleep(500);
      progress = (await api.req("GET", "/cc/rebalance", { headers: admin })).body;
    }
    expect(progress.state).toBe("finished");
    const counts = await api.sql<{ node: string; n: number }[]>`
      select n.nodename || ':' || n.nodeport as node, count(*)::int as n
      from pg_dist_schema s join pg_namespace ns on ns.oid = s.schemaid
      cross join lateral (select sh.shardid from pg_dist_partition p join pg_dist_shard sh on sh.logicalrelid = p.logicalrelid where p.colocationid = s.colocationid limit 1) sh
      join pg_dist_placement pl on pl.shardid = sh.shardid join pg_dist_node n on n.groupid = pl.groupid group by 1`;
    const [a, b] = counts.map((c) => c.n);
    expect(Math.abs(a! - b!)).toBeLessThanOrEqual(1);
  });
});

describe("dropping", () => {
  test("removes the schema from its worker", async () => {
    const [schema] = await create(1);
    expect((await api.req("DELETE", `/cc/tenants/${schema}?confirm=${schema}`, { headers: admin })).status).toBe(204);
    expect((await placements(api.sql, [schema!]))!.has(schema!)).toBe(false);
  });
});
