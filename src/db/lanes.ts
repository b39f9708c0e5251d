// Tenant API work on a few single-connection clients ("lanes"). A lane serves one tenant at a time,
// and Bun pipelines that tenant's concurrent queries on it (one pipelined connection serves a busy
// tenant as fast as a pool of four: README › The driver). Queries of different tenants are never
// pipelined together: behind a query that waits (a lock taken by someone else, a slow statement)
// everything sent on the same connection waits too, and that must only ever be the same tenant.
//  - a tenant holds at most one lane, DEPTH queries deep; other tenants take the idle lanes;
//  - a tenant whose oldest query has waited longer than STALL_MS gets nothing more sent;
//  - work that finds nothing to run on waits its turn (per tenant, oldest first), at most
//    `acquireMs`, then fails with PoolTimeout;
//  - when a query times out (lock or statement) with more of its tenant's queries queued behind it,
//    the lane's session is ended, so they fail at once instead of each waiting out the timeout again.
import type { SQL } from "bun";

const STALL_MS = 100;
const DEPTH = 16;
// lock_not_available, query_canceled (statement_timeout)
const TIMEOUTS = new Set(["55P03", "57014"]);

/** Tenant work waited longer than DB_ACQUIRE_TIMEOUT_MS for a connection. */
export class PoolTimeout extends Error {
  override name = "PoolTimeout";
  constructor(readonly waitedMs: number) {
    super(`no database connection was free for this tenant within ${waitedMs} ms`);
  }
}

/** `resetting`: its session is being ended and its client replaced; nobody may take it meanwhile. */
type Lane = { name: string; open: () => SQL; sql: SQL; owner: Tenant | undefined; running: number[]; resetting: boolean };
type Tenant = { key: string; lane: Lane | undefined; waiting: number };
/** A claim on a lane: counted as running there from `started`. */
type Ticket = { lane: Lane; started: number };
type Waiter = { tenant: Tenant; resolve: (ticket: Ticket) => void };

export class Lanes {
  private readonly lanes: Lane[];
  private readonly tenants = new Map<string, Tenant>();
  private readonly waiters: Waiter[] = [];

  constructor(
    lanes: { name: string; open: () => SQL }[],
    private readonly options: { acquireMs: number; terminate: (name: string) => Promise<void> },
  ) {
    this.lanes = lanes.map((l) => ({ ...l, sql: l.open(), owner: undefined, running: [], resetting: false }));
  }

  async run<T>(key: string, work: (sql: SQL) => Promise<T>): Promise<T> {
    let tenant = this.tenants.get(key);
    if (!tenant) this.tenants.set(key, (tenant = { key, lane: undefined, waiting: 0 }));
    const { lane, started } = (tenant.waiting === 0 && this.claim(tenant)) || (await this.wait(tenant));
    try {
      return await work(lane.sql);
    } catch (error) {
      const code = (error as { errno?: string }).errno;
      if (code && TIMEOUTS.has(code) && lane.running.at(-1) !== started && !lane.resetting) this.reset(lane);
      throw error;
    } finally {
      lane.running.splice(lane.running.indexOf(started), 1);
      if (lane.running.length === 0) this.free(lane);
      if (this.waiters.length) this.release();
    }
  }

  /** A claim for this tenant's next work, or undefined when it must wait. */
  private claim(tenant: Tenant): Ticket | undefined {
    const now = performance.now();
    let lane = tenant.lane;
    if (lane) {
      if (lane.running.length >= DEPTH || now - lane.running[0]! > STALL_MS) return undefined;
    } else {
      lane = this.lanes.find((l) => !l.owner && !l.resetting);
      if (!lane) return undefined;
      lane.owner = tenant;
      tenant.lane = lane;
    }
    lane.running.push(now);
    return { lane, started: now };
  }

  /** Ends the lane's session on the server (nothing queued on it runs), then gives it a new client. */
  private reset(lane: Lane) {
    lane.resetting = true;
    this.options
      .terminate(lane.name)
      .catch(() => {})
      .finally(() => {
        const old = lane.sql;
        lane.sql = lane.open();
        old.close({ timeout: 0 }).catch(() => {});
        lane.resetting = false;
        if (this.waiters.length) this.release();
      });
  }

  private free(lane: Lane) {
    const tenant = lane.owner!;
    lane.owner = tenant.lane = undefined;
    if (tenant.waiting === 0) this.tenants.delete(tenant.key);
  }

  private wait(tenant: Tenant): Promise<Ticket> {
    tenant.waiting++;
    return new Promise<Ticket>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        if (--tenant.waiting === 0 && !tenant.lane) this.tenants.delete(tenant.key);
        reject(new PoolTimeout(this.options.acquireMs));
      }, this.options.acquireMs);
      const waiter: Waiter = {
        tenant,
        resolve: (ticket) => {
          clearTimeout(timer);
          tenant.waiting--;
          resolve(ticket);
        },
      };
      this.waiters.push(waiter);
    });
  }

  /** After work ends: hand out what can run now, oldest first, each tenant in its own order. */
  private release() {
    const blocked = new Set<Tenant>();
    for (let i = 0; i < this.waiters.length; ) {
      const waiter = this.waiters[i]!;
      const ticket = blocked.has(waiter.tenant) ? undefined : this.claim(waiter.tenant);
      if (!ticket) {
        blocked.add(waiter.tenant);
        i++;
        continue;
      }
      this.waiters.splice(i, 1);
      waiter.resolve(ticket);
    }
  }

  async close() {
    await Promise.all(this.lanes.map((l) => l.sql.close({ timeout: 5 })));
  }
}
