// The lanes against real PostgreSQL: a tenant's concurrent work shares one connection, tenants
// never share one, and a tenant stuck behind a lock taken from outside stalls nobody else.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { connect, database, type Database, type Sql } from "../../src/db/client";
import { PoolTimeout } from "../../src/db/lanes";
import { database as testDatabase, testConfig, uniqueSchema } from "../support/db";

let admin: Sql;
let db: Database;
const [locked, free] = [uniqueSchema("lane"), uniqueSchema("lane")];

beforeAll(async () => {
  if (!testConfig.dbPrepare) return;
  admin = (await testDatabase()).sql;
  for (const s of [locked, free]) await admin.unsafe(`create schema ${s}; create table ${s}.t (id int); insert into ${s}.t values (1)`);
  const shared = await testDatabase();
  db = database(shared.url, { ...testConfig, citus: shared.citus, dbPoolMax: 3, dbLockTimeoutMs: 1500, dbAcquireTimeoutMs: 500 });
});
afterAll(async () => {
  if (!testConfig.dbPrepare) return;
  await db.close();
  for (const s of [locked, free]) await admin.unsafe(`drop schema if exists ${s} cascade`);
});

const pid = (sql: Sql) => sql`select pg_backend_pid() as pid`.then(([row]) => row.pid as number);

// Through a transaction pooler (DB_PREPARE=false) a lane is no server session of its own, and the
// timeouts come from the role, not from us: these tests talk to PostgreSQL directly.
describe.skipIf(!testConfig.dbPrepare)("lanes", () => {
  test("a tenant's concurrent work shares one connection; two tenants at once never share one", async () => {
    const same = await Promise.all(Array.from({ length: 8 }, () => db.run(free, pid)));
    expect(new Set(same).size).toBe(1);
    const [a, b] = await Promise.all([db.run(free, (sql) => pid(sql).then(async (p) => (await Bun.sleep(50), p))), db.run(locked, pid)]);
    expect(a).not.toBe(b);
  });

  test("with one tenant's table locked from outside, others answer at once; its own work waits, then times out", async () => {
    const outside = connect((await testDatabase()).url, testConfig, { max: 1 });
    const holder = await outside.reserve();
    try {
      await holder`begin`;
      await holder.unsafe(`lock table ${locked}.t in access exclusive mode`);
      const stuck = Array.from({ length: 3 }, () => db.run(locked, (sql) => sql.unsafe(`select * from ${locked}.t`)).catch((e) => e));
      await Bun.sleep(150); // the locked tenant's lane is now stalled
      const late = db.run(locked, (sql) => sql.unsafe(`select * from ${locked}.t`)).catch((e) => e);
      // Answered while the lock is still held: nothing of theirs queued behind the stuck tenant.
      const others = await Promise.all(Array.from({ length: 20 }, () => db.run(free, (sql) => sql.unsafe(`select id from ${free}.t`))));
      expect(others.flat()).toHaveLength(20);
      expect(await late).toBeInstanceOf(PoolTimeout);
      const errors = await Promise.all(stuck);
      // The first hits the lock timeout; the lane's session then ends, so the rest fail with it
      // (connection closed) instead of each waiting out another lock timeout.
      expect(errors[0].errno).toBe("55P03");
      expect(errors.slice(1).map((e) => e.errno)).toEqual(["57P01", "57P01"]); // terminating connection due to administrator command
    } finally {
      await holder`rollback`;
      holder.release();
      await outside.close();
    }
    // Released: the tenant is served again.
    expect(await db.run(locked, (sql) => sql.unsafe(`select count(*)::int as n from ${locked}.t`))).toEqual([{ n: 1 }]);
  });
});
