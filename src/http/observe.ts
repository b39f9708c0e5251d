// Request logs (JSON lines at LOG_LEVEL info: method, route, status, duration, tenant; never a
// token) and Prometheus metrics at /metrics, guarded or disabled by METRICS.
import { Elysia } from "elysia";
import type { Deps } from "../app";
import { isSchemaName } from "../db/names";
import { APPLICATION } from "../db/client";
import { AppError } from "../errors";
import { authorizeOperator } from "../services/auth";

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

export class Metrics {
  private readonly requests = new Map<string, number>();
  private readonly latency = new Map<string, { buckets: number[]; sum: number; count: number }>();

  observe(method: string, route: string, status: number, seconds: number) {
    const key = `method="${method}",route="${route}",status="${status}"`;
    this.requests.set(key, (this.requests.get(key) ?? 0) + 1);
    const series = `method="${method}",route="${route}"`;
    let h = this.latency.get(series);
    if (!h) this.latency.set(series, (h = { buckets: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < BUCKETS.length; i++) if (seconds <= BUCKETS[i]!) h.buckets[i]!++;
    h.sum += seconds;
    h.count++;
  }

  render(gauges: Record<string, [string, number][]>): string {
    const lines = ["# HELP http_requests_total Requests by method, route and status.", "# TYPE http_requests_total counter"];
    for (const [labels, n] of this.requests) lines.push(`http_requests_total{${labels}} ${n}`);
    lines.push("# HELP http_request_duration_seconds Request latency.", "# TYPE http_request_duration_seconds histogram");
    for (const [labels, h] of this.latency) {
      BUCKETS.forEach((le, i) => lines.push(`http_request_duration_seconds_bucket{${labels},le="${le}"} ${h.buckets[i]}`));
      lines.push(`http_request_duration_seconds_bucket{${labels},le="+Inf"} ${h.count}`);
      lines.push(`http_request_duration_seconds_sum{${labels}} ${h.sum}`, `http_request_duration_seconds_count{${labels}} ${h.count}`);
    }
    for (const [name, samples] of Object.entries(gauges)) {
      lines.push(`# TYPE ${name} gauge`);
      for (const [labels, value] of samples) lines.push(`${name}${labels ? `{${labels}}` : ""} ${value}`);
    }
    return `${lines.join("\n")}\n`;
  }
}

const started = new WeakMap<Request, number>();

export const observe = ({ config, db: { sql }, cache, log, metrics }: Deps) =>
  new Elysia({ name: "observe", seed: metrics })
    .onRequest(({ request }) => {
      started.set(request, performance.now());
    })
    .onAfterResponse({ as: "global" }, ({ request, route, set }) => {
      const ms = performance.now() - (started.get(request) ?? performance.now());
      const status = typeof set.status === "number" ? set.status : 200;
      // Unmatched paths share one label, so scanners cannot blow up the series count.
      const path = route || "unmatched";
      metrics.observe(request.method, path, status, ms / 1000);
      if (log.enabled("info")) {
        const tenant = request.headers.get("tenant");
        log.info("request", { method: request.method, route: path, status, ms: Math.round(ms * 10) / 10, tenant: tenant && isSchemaName(tenant) ? tenant : undefined });
      }
    })
    .get(
      "/metrics",
      async ({ headers, set }) => {
        if (config.metrics === "off") throw new AppError(404, "not_found", "no such route");
        if (config.metrics === "token") authorizeOperator(config.adminToken, headers.authorization, "metrics_disabled");
        const [tenants, connections] = await Promise.all([
          sql<{ status: string; n: number }[]>`select status, count(*)::int as n from public.tenants group by status`,
          sql<{ state: string; n: number }[]>`
            select coalesce(state, 'unknown') as state, count(*)::int as n from pg_stat_activity
            where application_name like ${`${APPLICATION}%`} and datname = current_database() group by 1`,
        ]);
        set.headers["content-type"] = "text/plain; version=0.0.4";
        return metrics.render({
          tenants: tenants.map((r) => [`status="${r.status}"`, r.n]),
          db_pool_max: [["", config.dbPoolMax]],
          // Every tenant-todo instance's connections to this database, by state.
          db_connections: connections.map((r) => [`state="${r.state}"`, r.n]),
          auth_cache_entries: [["cache=\"tenants\"", cache.tenants.size], ["cache=\"sessions\"", cache.sessions.size]],
          process_resident_memory_bytes: [["", process.memoryUsage.rss()]],
        });
      },
      { detail: { tags: ["health"], summary: "Prometheus metrics (METRICS=token: bearer ADMIN_TOKEN; open; off)" } },
    );
