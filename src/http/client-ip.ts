// Who is asking, for the rate limits: the socket's address, unless TRUST_PROXY says which proxies in
// front may report the client's in X-Forwarded-For. Without TRUST_PROXY a forged header changes nothing.
import { BlockList, isIP } from "node:net";

/** A hop count (that many proxies in front), or the proxies' addresses. */
export type Trust = number | BlockList;

export function trustOf(setting: number | readonly string[]): Trust {
  if (typeof setting === "number") return setting;
  const list = new BlockList();
  for (const entry of setting) {
    const [address = "", prefix] = entry.split("/");
    const family = isIP(address) === 6 ? "ipv6" : "ipv4";
    list.addSubnet(address, prefix === undefined ? (family === "ipv6" ? 128 : 32) : Number(prefix), family);
  }
  return list;
}

/** "[::1]:80" → "::1", "1.2.3.4:80" → "1.2.3.4", "::ffff:1.2.3.4" → "1.2.3.4"; undefined when it is no address. */
export function bareAddress(text: string | undefined): string | undefined {
  if (!text) return undefined;
  let a = text.trim();
  if (a.startsWith("[")) a = a.slice(1).split("]")[0]!;
  else if (/^[\d.]+:\d+$/.test(a)) a = a.slice(0, a.indexOf(":"));
  a = a.replace(/%.*$/, "").toLowerCase();
  if (a.startsWith("::ffff:") && isIP(a.slice(7)) === 4) a = a.slice(7);
  return isIP(a) ? a : undefined;
}

/**
 * The client's address. The chain is X-Forwarded-For's entries followed by the socket's peer; from
 * the peer leftwards, each trusted proxy vouches for the entry before it. Stops at the first
 * untrusted hop, or at an entry that is no address. Undefined only without a socket (in-process).
 */
export function clientAddress(socket: string | undefined, forwardedFor: string | null, trust: Trust): string | undefined {
  const peer = bareAddress(socket);
  if (!forwardedFor || trust === 0) return peer;
  const chain = [...forwardedFor.split(","), socket];
  let i = chain.length - 1;
  const trusted = (hop: number) => {
    if (typeof trust === "number") return chain.length - 1 - hop < trust;
    const a = bareAddress(chain[hop]);
    return a !== undefined && trust.check(a, isIP(a) === 6 ? "ipv6" : "ipv4");
  };
  while (i > 0 && trusted(i) && bareAddress(chain[i - 1])) i--;
  return i === chain.length - 1 ? peer : bareAddress(chain[i]);
}

/** What a limit counts by: an IPv4 address, or an IPv6 /64 (one subscriber's usual allocation). */
export function limitKey(address: string | undefined): string {
  if (!address) return "unknown";
  if (isIP(address) !== 6) return address;
  const [head = "", tail] = address.split("::");
  const left = head ? head.split(":") : [];
  const right = tail ? tail.split(":") : [];
  // An embedded IPv4 tail (::1.2.3.4) stands for two groups.
  const width = right.reduce((n, g) => n + (g.includes(".") ? 2 : 1), 0);
  const groups = tail === undefined ? left : [...left, ...Array<string>(8 - left.length - width).fill("0"), ...right];
  return `${groups.slice(0, 4).map((g) => parseInt(g, 16).toString(16)).join(":")}::/64`;
}
