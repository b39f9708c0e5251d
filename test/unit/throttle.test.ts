import { expect, test } from "bun:test";
import { RateLimited } from "../../src/errors";
import { TenantThrottle } from "../../src/services/limits";

const refused = (f: () => void) => {
  try {
    f();
    return undefined;
  } catch (error) {
    return error as RateLimited;
  }
};

test("TENANT_RATE: a burst of one second's worth, then the rate; each tenant its own bucket", () => {
  let now = 0;
  const throttle = new TenantThrottle(5, () => now);
  for (let i = 0; i < 5; i++) expect(refused(() => throttle.take("a"))).toBeUndefined();
  const over = refused(() => throttle.take("a"))!;
  expect(over).toBeInstanceOf(RateLimited);
  expect(over).toMatchObject({ status: 429, code: "rate_limited", retryAfter: 1, usage: [{ policy: "tenant", limit: 5, window: 1, remaining: 0, reset: 1 }] });
  expect(refused(() => throttle.take("b"))).toBeUndefined();
  now += 200; // one token back
  expect(refused(() => throttle.take("a"))).toBeUndefined();
  expect(refused(() => throttle.take("a"))).toBeInstanceOf(RateLimited);
  now += 10_000; // refilled, never beyond the burst
  for (let i = 0; i < 5; i++) expect(refused(() => throttle.take("a"))).toBeUndefined();
  expect(refused(() => throttle.take("a"))).toBeInstanceOf(RateLimited);
});
