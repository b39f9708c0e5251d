// The public edge's limits as a route option: `limit: "register" | "login" | "users"` counts the
// request against the shared limits after validation and before the handler, so before any argon2
// hash or schema work, and answers with the RateLimit-Policy and RateLimit headers
// (draft-ietf-httpapi-ratelimit-headers-10), on a 429 with Retry-After too (errors.ts).
import { Elysia } from "elysia";
import type { Deps } from "../app";
import type { RateUsage } from "../errors";
import { enforce, refund, type Check } from "../services/limits";
import { normaliseEmail } from "../services/users";
import { clientAddress, limitKey, trustOf } from "./client-ip";

export function rateLimitHeaders(usage: readonly RateUsage[]): Record<string, string> {
  return {
    "ratelimit-policy": usage.map((u) => `"${u.policy}";q=${u.limit};w=${u.window}`).join(", "),
    ratelimit: usage.map((u) => `"${u.policy}";r=${u.remaining};t=${u.reset}`).join(", "),
  };
}

type Route = "register" | "login" | "users";

export const limits = (deps: Deps) => {
  const { rate, trustProxy } = deps.config;
  const trust = trustOf(trustProxy);
  const counted = new WeakMap<Request, RateUsage[]>();

  function checks(route: Route, address: string, email: string | undefined): Check[] {
    if (route === "register") return [{ policy: "register", rule: rate.register, subject: address }];
    if (route === "users") return [{ policy: "users", rule: rate.users, subject: address }];
    // The address first: a guesser spread over many emails is stopped there without counting against them.
    return [
      { policy: "login-ip", rule: rate.loginIp, subject: address },
      { policy: "login-email", rule: rate.loginEmail, subject: normaliseEmail(email!) },
    ];
  }

  return new Elysia({ name: "limits", seed: deps.cache }).macro({
    limit: (route: Route) => ({
      async beforeHandle({ request, server, body, set }) {
        const email = (body as { email?: string } | undefined)?.email;
        // Of the user writes, only those carrying an email can answer "taken".
        if (route === "users" && email === undefined) return;
        const address = limitKey(clientAddress(server?.requestIP(request)?.address, request.headers.get("x-forwarded-for"), trust));
        const usage = await enforce(deps, checks(route, address, email));
        if (usage.length === 0) return;
        Object.assign(set.headers, rateLimitHeaders(usage));
        if (route === "login") counted.set(request, usage);
      },
      // A right password is no failure: the email's count goes back down.
      ...(route === "login" && {
        async afterHandle({ request, body, set }) {
          const usage = counted.get(request)?.find((u) => u.policy === "login-email");
          if (!usage) return;
          await refund(deps, usage.policy, normaliseEmail((body as { email: string }).email));
          usage.remaining = Math.min(usage.limit, usage.remaining + 1);
          Object.assign(set.headers, rateLimitHeaders(counted.get(request)!));
        },
      }),
    }),
  });
};
