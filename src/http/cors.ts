// CORS for browser clients (Todo-Backend's among them): the tenant and Authorization headers and
// the conditional and idempotency headers are allowed; the paging headers, Location and ETag
// exposed. CORS_ORIGINS lists origins, or * for any. Hand-written rather than @elysiajs/cors,
// which cannot keep these answers (README › CORS).
import { Elysia } from "elysia";
import type { Config } from "../config";

const ALLOW_HEADERS = "authorization, content-type, tenant, if-match, if-none-match, idempotency-key";
const ALLOW_METHODS = "GET, POST, PATCH, DELETE, OPTIONS";
const EXPOSE_HEADERS = "x-total-count, link, location, www-authenticate, etag, retry-after, ratelimit-policy, ratelimit";

export const cors = ({ corsOrigins }: Pick<Config, "corsOrigins">) =>
  new Elysia({ name: "cors", seed: corsOrigins }).onRequest(({ request, set }) => {
    // With a list, whether Access-Control-Allow-Origin is sent depends on Origin: every response
    // says so, or a cache could hand one origin's answer (or a no-Origin answer) to another.
    if (corsOrigins !== "*") set.headers.vary = "Origin";
    const origin = request.headers.get("origin");
    if (!origin) return;
    if (corsOrigins !== "*" && !corsOrigins.includes(origin)) return;
    set.headers["access-control-allow-origin"] = corsOrigins === "*" ? "*" : origin;
    set.headers["access-control-expose-headers"] = EXPOSE_HEADERS;
    if (request.method === "OPTIONS") {
      set.headers["access-control-allow-methods"] = ALLOW_METHODS;
      set.headers["access-control-allow-headers"] = ALLOW_HEADERS;
      set.headers["access-control-max-age"] = "600";
      set.status = 204;
      return "";
    }
  });
