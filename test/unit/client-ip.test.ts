import { describe, expect, test } from "bun:test";
import { bareAddress, clientAddress, limitKey, trustOf } from "../../src/http/client-ip";

describe("clientAddress", () => {
  test("without TRUST_PROXY the socket's peer, whatever X-Forwarded-For claims", () => {
    expect(clientAddress("203.0.113.9", "1.2.3.4", trustOf(0))).toBe("203.0.113.9");
    expect(clientAddress("::ffff:203.0.113.9", null, trustOf(0))).toBe("203.0.113.9");
    expect(clientAddress(undefined, "1.2.3.4", trustOf(0))).toBeUndefined();
  });

  test("a hop count believes that many proxies, from the right", () => {
    const xff = "6.6.6.6, 198.51.100.7, 10.0.0.2";
    expect(clientAddress("10.0.0.1", xff, trustOf(1))).toBe("10.0.0.2");
    expect(clientAddress("10.0.0.1", xff, trustOf(2))).toBe("198.51.100.7");
    // More hops than entries: the leftmost, which the first proxy saw.
    expect(clientAddress("10.0.0.1", "198.51.100.7", trustOf(3))).toBe("198.51.100.7");
    // In-process (no socket) the peer counts as the first proxy.
    expect(clientAddress(undefined, "198.51.100.7", trustOf(1))).toBe("198.51.100.7");
  });

  test("CIDRs believe only proxies at those addresses, walking left past each", () => {
    const trust = trustOf(["10.0.0.0/8", "fd00::/8"]);
    expect(clientAddress("10.0.0.1", "198.51.100.7, 10.9.9.9", trust)).toBe("198.51.100.7");
    expect(clientAddress("fd00::1", "2001:db8::5", trust)).toBe("2001:db8::5");
    // A forged entry left of a client that is no proxy is never reached.
    expect(clientAddress("10.0.0.1", "6.6.6.6, 198.51.100.7", trust)).toBe("198.51.100.7");
    // The peer is no trusted proxy: its header is ignored.
    expect(clientAddress("203.0.113.9", "1.2.3.4", trust)).toBe("203.0.113.9");
    expect(clientAddress(undefined, "1.2.3.4", trust)).toBeUndefined();
  });

  test("garbage in the header stops the walk at the last good hop", () => {
    expect(clientAddress("10.0.0.1", "not-an-ip", trustOf(1))).toBe("10.0.0.1");
    expect(clientAddress("10.0.0.1", "<script>, 198.51.100.7", trustOf(5))).toBe("198.51.100.7");
  });
});

test("bareAddress drops ports, brackets, zones and the IPv4-mapped prefix", () => {
  expect(bareAddress("[2001:DB8::1]:443")).toBe("2001:db8::1");
  expect(bareAddress("192.0.2.1:8080")).toBe("192.0.2.1");
  expect(bareAddress("fe80::1%eth0")).toBe("fe80::1");
  expect(bareAddress("::ffff:192.0.2.1")).toBe("192.0.2.1");
  expect(bareAddress("unknown")).toBeUndefined();
});

test("limitKey: IPv4 as is, IPv6 by its /64, one key for the unknown", () => {
  expect(limitKey("192.0.2.1")).toBe("192.0.2.1");
  expect(limitKey("2001:db8:1:2:3:4:5:6")).toBe("2001:db8:1:2::/64");
  expect(limitKey("2001:db8:1:2::99")).toBe(limitKey("2001:0db8:0001:0002:ffff::1"));
  expect(limitKey("2001:db8::1")).toBe("2001:db8:0:0::/64");
  expect(limitKey("::1")).toBe("0:0:0:0::/64");
  expect(limitKey("64:ff9b::192.0.2.1")).toBe("64:ff9b:0:0::/64");
  expect(limitKey(undefined)).toBe("unknown");
});
