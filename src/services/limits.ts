// Rate limits. The shared ones count in PostgreSQL (public.rate_limits): one statement per check,
// so every instance and worker sees the same counts, at the cost of one round trip on routes that
// then spend ~40 ms in argon2 anyway. TENANT_RATE counts in this process only, with no round trip,
// since it sits on every tenant request.
import type { RatePolicy } from "../config";
import { countHit, deleteEndedWindows, uncountHit } from "../db/limits";
import { sha256 } from "../digest";
import { RateLimited, type RateUsage } from "../errors";
import type { Store } from "./auth";

/** A limit to count a hit against: its name, its rule (undefined: off) and what it counts by (an address, an email). */
export type Check = { policy: string; rule: RatePolicy | undefined; subject: string };

const REFUSALS: Record<string, string> = {
  register: "too many sign-ups from this address",
  "login-ip": "too many sign-in attempts from this address",
  "login-email": "too many failed sign-ins for this email",
  users: "too many new users or email changes from this address",
  tenant: "too many requests for this tenant",
};

/** Counts a hit against each limit in turn (skipping those off); the first one over throws RateLimited, with every count so far. */
export async function enforce({ db }: Pick<Store, "db">, checks: Check[]): Promise<RateUsage[]> {
  const usage: RateUsage[] = [];
  for (const { policy, rule, subject } of checks) {
    if (!rule) continue;
    // Stored as a SHA-256 digest: the table holds no address or email.
    const { hits, reset } = await db.run("public", (sql) => countHit(sql, policy, sha256(subject), rule.window));
    usage.push({ policy, limit: rule.limit, window: rule.window, remaining: Math.max(0, rule.limit - hits), reset });
    if (hits > rule.limit) throw new RateLimited(`${REFUSALS[policy]}; try again in ${reset} s`, usage, reset);
  }
  if (usage.length) sweep(db);
  return usage;
}

/** Takes back a hit counted by `enforce` (a sign-in that turned out right was no failure). */
export async function refund({ db }: Pick<Store, "db">, policy: string, subject: string) {
  await db.run("public", (sql) => uncountHit(sql, policy, sha256(subject)));
}

let nextSweep = 0;

/** At most once a minute per process, in the background: forget windows that ended. */
function sweep(db: Store["db"]) {
  if (Date.now() < nextSweep) return;
  nextSweep = Date.now() + 60_000;
  deleteEndedWindows(db.sql).catch(() => {});
}

const BUCKETS = 50_000;

/**
 * TENANT_RATE: a token bucket per tenant, in this process: `rate` requests a second, in bursts of
 * up to one second's worth. Each instance counts on its own, so the fleet allows instances × rate.
 */
export class TenantThrottle {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();

  constructor(
    private readonly rate: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** One request's token, or RateLimited when the tenant has none left. */
  take(schema: string) {
    const now = this.now();
    let bucket = this.buckets.get(schema);
    if (!bucket) {
      if (this.buckets.size >= BUCKETS) this.forgetFull(now);
      this.buckets.set(schema, (bucket = { tokens: this.rate, at: now }));
    }
    bucket.tokens = Math.min(this.rate, bucket.tokens + ((now - bucket.at) / 1000) * this.rate);
    bucket.at = now;
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return;
    }
    const reset = Math.max(1, Math.ceil((1 - bucket.tokens) / this.rate));
    throw new RateLimited(`${REFUSALS.tenant} (TENANT_RATE); try again in ${reset} s`, [{ policy: "tenant", limit: this.rate, window: 1, remaining: 0, reset }], reset);
  }

  /** Buckets that refilled completely are the same as none. */
  private forgetFull(now: number) {
    for (const [schema, b] of this.buckets) if (b.tokens + ((now - b.at) / 1000) * this.rate >= this.rate) this.buckets.delete(schema);
  }
}
