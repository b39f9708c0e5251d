// In-process caches for the two lookups on every request (tenant, session). Entries live
// `ttl` ms: the time another instance may keep trusting a session it revoked or a tenant it
// suspended. This instance evicts at once on its own writes.
import type { Session } from "../db/sessions";
import type { Tenant } from "../db/tenants";

export class TtlCache<V> {
  private readonly entries = new Map<string, { value: V; until: number }>();
  constructor(
    private readonly ttl: number,
    private readonly max = 100_000,
  ) {}

  get(key: string): V | undefined {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    if (entry.until > Date.now()) return entry.value;
    this.entries.delete(key);
    return undefined;
  }

  set(key: string, value: V) {
    if (this.ttl <= 0) return;
    // Map keeps insertion order: when full, the oldest entry goes.
    if (this.entries.size >= this.max) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key, { value, until: Date.now() + this.ttl });
  }

  delete(key: string) {
    this.entries.delete(key);
  }

  deleteWhere(match: (key: string, value: V) => boolean) {
    for (const [key, { value }] of this.entries) if (match(key, value)) this.entries.delete(key);
  }

  get size() {
    return this.entries.size;
  }
}

export type CachedSession = Session & { schema: string; expires: number };

export class AuthCache {
  readonly tenants: TtlCache<Tenant>;
  readonly hosts: TtlCache<Tenant>;
  readonly sessions: TtlCache<CachedSession>;

  constructor(seconds: number) {
    this.tenants = new TtlCache(seconds * 1000, 50_000);
    this.hosts = new TtlCache(seconds * 1000, 50_000);
    this.sessions = new TtlCache(seconds * 1000, 200_000);
  }

  static sessionKey(schema: string, token: string) {
    return `${schema} ${token}`;
  }

  evictTenant(schema: string) {
    this.tenants.delete(schema);
    this.hosts.deleteWhere((_, t) => t.schema === schema);
    this.sessions.deleteWhere((_, s) => s.schema === schema);
  }

  evictUser(schema: string, userId: number) {
    this.sessions.deleteWhere((_, s) => s.schema === schema && s.user_id === userId);
  }
}
