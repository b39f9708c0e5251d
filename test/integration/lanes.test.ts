// The lanes against real PostgreSQL: a tenant's concurrent work shares one connection, a lock
// released in time costs only a wait, and a tenant stuck behind a lock taken from outside stalls
// nobody else.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { database, type Database, type Sql } from "../../src/db/client";
import { PoolTimeout } from "../../src/db/lanes";
import { holdLock, database as testDatabase, slowMachine, testConfig, uniqueSchema } from "../support/db";

slowMachine();

let admin: Sql;
let db: Database;
const [locked, free] = [uniqueSchema("lane"), uniqueSchema("lane")];

beforeAll(async () => {
  if (!testConfig.dbPrepare) return;
  const shared = await testDatabase();
  admin = shared.sql;
  for (const s of [locked, free]) await admin.unsafe(`create schema ${s}; create table ${s}.t (id int); insert into ${s}.t values (1)`);
  db = database(shared.url, { ...testConfig, citus: shared.citus, dbPoolMax: 3, dbLockTimeoutMs: 1500, dbAcquireTimeoutMs: 500 });
});
afterAll(async () => {
  if (!testConfig.dbPrepare) return;
  await db.close();
  for (const s of [locked, free]) await admin.unsafe(`drop schema if exists ${s} cascade`);
});

const pid = (sql: Sql) => sql`select pg_backend_pid() as pid`.then(([row]) => row.pid as number);

const lockFromOutside = () => holdLock(`${locked}.t`, "access exclusive");

const select = (schema: string) => (sql: Sql) => sql.unsafe(`select id from ${schema}.t`);

// Through a transaction pooler (DB_PREPARE=false) a lane is no server session of its own, and the
// timeouts come from the role, not from us: these tests talk to PostgreSQL directly.
describe.skipIf(!testConfig.dbPrepare)("lanes", () => {
  test("a tenant's concurrent work shares one connection; two busy tenants at once get one each", async () => {
    const same = await Promise.all(Array.from({ length: 8 }, () => db.run(free, pid)));
    expect(new Set(same).size).toBe(1);
    const [a, b] = await Promise.all([db.run(free, (sql) => pid(sql).then(async (p) => (await Bun.sleep(50), p))), db.run(locked, pid)]);
    expect(a).not.toBe(b);
  });

  test("a lock released within the lock timeout costs a wait, not an error", async () => {
    const release = await lockFromOutside();
    const waited = db.run(locked, select(locked));
    await Bun.sleep(300); // past the shared lanes' short lock timeout: the work now waits on an isolated lane
    await release();
    expect(await waited).toEqual([{ id: 1 }]);
  });

  test("with one tenant's table locked from outside, others answer at once; its own work waits, then times out", async () => {
    const release = await lockFromOutside();
    try {
      const stuck = Array.from({ length: 3 }, () => db.run(locked, select(locked)).catch((e) => e));
      await Bun.sleep(600); // the locked tenant now waits on the only isolated lane
      const late = db.run(locked, select(locked)).catch((e) => e);
      // Answered while the lock is still held: nothing of theirs queued behind the stuck tenant.
      const others = await Promise.all(Array.from({ length: 20 }, () => db.run(free, select(free))));
      expect(others.flat()).toHaveLength(20);
      expect(await late).toBeInstanceOf(PoolTimeout);
      const errors = await Promise.all(stuck);
      // The first hits the lock timeout on an isolated lane. The rest either queued behind it there,
      // where its session then ends (57P01: terminating connection due to administrator command), so
      // they fail with it instead of each waiting out another lock timeout; or, sent later, waited
      // their turn.
      expect(errors[0].errno).toBe("55P03");
      for (const e of errors.slice(1)) expect(e instanceof PoolTimeout || e.errno === "57P01").toBe(true);
    } finally {
      await release();
    }
    // Released: the tenant is served again.
    expect(await db.run(locked, (sql) => sql.unsafe(`select count(*)::int as n from ${locked}.t`))).toEqual([{ n: 1 }]);
  });
});
