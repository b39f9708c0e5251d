// Tenant API work on a few single-connection clients ("lanes"), where Bun pipelines queries: one
// pipelined connection serves a busy tenant as fast as a pool of four (README › The driver). The
// hazard of pipelining is a query that waits (a lock taken by someone else, a slow statement):
// everything sent behind it on its connection waits too. Two kinds of lanes keep that local:
//  - shared lanes carry every healthy tenant, pipelined together, with short lock and statement
//    timeouts, so nothing sent behind a stuck query waits long;
//  - isolated lanes serve one tenant at a time, with the rest of the configured timeouts: a tenant
//    whose query timed out on a shared lane runs there for a while (client.ts), where it can only
//    wait on itself.
// On either kind a tenant's concurrent work shares one lane, at most DEPTH deep; a tenant whose
// oldest query has waited longer than STALL_MS gets nothing more sent, and no other tenant is sent to
// a lane whose oldest query has; work that finds nothing to run on waits its turn (per tenant,
// oldest first), at most `acquireMs`, then fails with PoolTimeout. On an isolated lane, a query that
// times out with more of its tenant's queued behind it ends the lane's session, so those fail at
// once instead of each waiting out the timeout again.
import type { SQL } from "bun";

const STALL_MS = 100;
const DEPTH = 16;
// lock_not_available, query_canceled (statement_timeout)
const TIMEOUTS = new Set(["55P03", "57014"]);

export const isTimeout = (error: unknown) => TIMEOUTS.has((error as { errno?: string } | undefined)?.errno ?? "");

/** Tenant work waited longer than DB_ACQUIRE_TIMEOUT_MS for a connection. */
export class PoolTimeout extends Error {
  override name = "PoolTimeout";
  constructor(readonly waitedMs: number) {
    super(`no database connection was free for this tenant within ${waitedMs} ms`);
  }
}

/**
 * `running`: the start times of the queries in flight on it (any tenant's), oldest first. `owner`:
 * the tenant an isolated lane serves. `resetting`: its session is being ended; nobody may take it.
 */
type Lane = { name: string; open: () => SQL; sql: SQL; running: number[]; owner: Tenant | undefined; resetting: boolean };
/** `running`: this tenant's queries in flight (all on `lane`), oldest first. */
type Tenant = { key: string; lane: Lane | undefined; running: number[]; waiting: number };
/** A claim on a lane: counted as running there from `started`. */
type Ticket = { lane: Lane; started: number };
type Waiter = { tenant: Tenant; resolve: (ticket: Ticket) => void };

export class Lanes {
  private readonly lanes: Lane[];
  private readonly tenants = new Map<string, Tenant>();
  private readonly waiters: Waiter[] = [];

  constructor(
    lanes: { name: string; open: () => SQL }[],
    private readonly options: { isolated: boolean; acquireMs: number; terminate: (name: string) => Promise<void> },
  ) {
    this.lanes = lanes.map((l) => ({ ...l, sql: l.open(), running: [], owner: undefined, resetting: false }));
  }

  async run<T>(key: string, work: (sql: SQL) => Promise<T>): Promise<T> {
    let tenant = this.tenants.get(key);
    if (!tenant) this.tenants.set(key, (tenant = { key, lane: undefined, running: [], waiting: 0 }));
    const { lane, started } = (tenant.waiting === 0 && this.claim(tenant)) || (await this.wait(tenant));
    try {
      return await work(lane.sql);
    } catch (error) {
      if (this.options.isolated && isTimeout(error) && lane.running.at(-1) !== started && !lane.resetting) this.reset(lane);
      throw error;
    } finally {
      lane.running.splice(lane.running.indexOf(started), 1);
      tenant.running.splice(tenant.running.indexOf(started), 1);
      if (tenant.running.length === 0) {
        tenant.lane = lane.owner = undefined;
        if (tenant.waiting === 0) this.tenants.delete(key);
      }
      if (this.waiters.length) this.release();
    }
  }

  /** A claim for this tenant's next work, or undefined when it must wait. */
  private claim(tenant: Tenant): Ticket | undefined {
    const now = performance.now();
    let lane = tenant.lane;
    if (lane) {
      if (tenant.running.length >= DEPTH || now - tenant.running[0]! > STALL_MS) return undefined;
    } else {
      lane = this.options.isolated ? this.lanes.find((l) => !l.owner && !l.resetting) : this.leastLoaded(now);
      if (!lane) return undefined;
      if (this.options.isolated) lane.owner = tenant;
      tenant.lane = lane;
    }
    lane.running.push(now);
    tenant.running.push(now);
    return { lane, started: now };
  }

  /** The shared lane with the fewest queries in flight, among those not held up by a stuck one. */
  private leastLoaded(now: number): Lane | undefined {
    let best: Lane | undefined;
    for (const lane of this.lanes) {
      if (lane.resetting || (lane.running.length > 0 && now - lane.running[0]! > STALL_MS)) continue;
      if (!best || lane.running.length < best.running.length) best = lane;
    }
    return best;
  }

  private wait(tenant: Tenant): Promise<Ticket> {
    tenant.waiting++;
    return new Promise<Ticket>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.splice(this.waiters.indexOf(waiter), 1);
        if (--tenant.waiting === 0 && tenant.running.length === 0) this.tenants.delete(tenant.key);
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

  async close() {
    await Promise.all(this.lanes.map((l) => l.sql.close({ timeout: 5 })));
  }
}
