// CORS for browser clients (Todo-Backend's among them): the tenant and Authorization headers are
// allowed, the paging headers exposed. CORS_ORIGINS lists origins, or * for any.
import { Elysia } from "elysia";
import type { Config } from "../config";

const ALLOW_HEADERS = "authorization, content-type, tenant";
const ALLOW_METHODS = "GET, POST, PATCH, DELETE, OPTIONS";
const EXPOSE_HEADERS = "x-total-count, link, location, www-authenticate, retry-after, ratelimit-policy, ratelimit";

export const cors = ({ corsOrigins }: Pick<Config, "corsOrigins">) =>
  new Elysia({ name: "cors", seed: corsOrigins }).onRequest(({ request, set }) => {
    const origin = request.headers.get("origin");
    if (!origin) return;
    if (corsOrigins !== "*" && !corsOrigins.includes(origin)) return;
    set.headers["access-control-allow-origin"] = corsOrigins === "*" ? "*" : origin;
    if (corsOrigins !== "*") set.headers.vary = "Origin";
    set.headers["access-control-expose-headers"] = EXPOSE_HEADERS;
    if (request.method === "OPTIONS") {
      set.headers["access-control-allow-methods"] = ALLOW_METHODS;
      set.headers["access-control-allow-headers"] = ALLOW_HEADERS;
      set.headers["access-control-max-age"] = "600";
      set.status = 204;
      return "";
    }
  });
