import type { IncomingHttpHeaders } from "node:http";
import { BlockList, isIP } from "node:net";

/**
 * The address a request comes from, as far as this server can vouch for it, for Better Auth's
 * rate limit and the `ipAddress` it stores with each session.
 *
 * By default that is the TCP peer: a client cannot choose it. `X-Forwarded-For` is read only when
 * the peer is one of the proxies named in TRUSTED_PROXIES (comma-separated IP addresses or CIDR
 * ranges); then the address is the right-most entry that is not itself a trusted proxy, since
 * every proxy appends the address it saw and only those entries are vouched for (MDN,
 * "X-Forwarded-For: Selecting an IP address"; the left-most entries are whatever the client wrote).
 *
 * The server (server.ts) writes the result into CLIENT_ADDRESS_HEADER on every request, over
 * anything a client sent under that name, and Better Auth reads only that header
 * (`advanced.ipAddress.ipAddressHeaders`).
 */
export const CLIENT_ADDRESS_HEADER = "x-tasks-client-ip";

/** Set in the environment by server.ts: the header above is then its, never a client's. */
const SERVER_MARK = "TASKS_CLIENT_ADDRESS_SERVER";

/** Called by server.ts before Next.js loads the app. */
export function markClientAddressServer(): void {
  process.env[SERVER_MARK] = "1";
}

/**
 * For Better Auth's `advanced.ipAddress.ipAddressHeaders`: CLIENT_ADDRESS_HEADER under server.ts;
 * none when the app is served some other way (`next start`, `next dev`), where nothing removes
 * a copy a client sent, so no client can name its own address (Better Auth then has none).
 */
export function clientAddressHeaders(): string[] {
  return process.env[SERVER_MARK] === "1" ? [CLIENT_ADDRESS_HEADER] : [];
}

/** Forwarding headers that only a trusted proxy may set; from anyone else they are dropped, and
 * Next.js fills in its own `x-forwarded-*` from the connection. */
export const FORWARDING_HEADERS = [
  "forwarded",
  "x-forwarded-for",
  "x-forwarded-host",
  "x-forwarded-port",
  "x-forwarded-proto",
  "x-real-ip",
] as const;

export type TrustedProxies = BlockList | null;

/** `::ffff:192.0.2.1` → `192.0.2.1`: the same peer whether the socket is IPv4 or dual-stack. */
function unmapped(address: string): string {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return mapped?.[1] ?? address;
}

function family(address: string): "ipv4" | "ipv6" | null {
  const version = isIP(address);
  return version === 4 ? "ipv4" : version === 6 ? "ipv6" : null;
}

/**
 * Parses TRUSTED_PROXIES: comma-separated addresses (`10.0.0.7`, `::1`) and CIDR ranges
 * (`10.0.0.0/8`, `fd00::/8`); empty or unset means no proxy is trusted (null).
 * Throws an Error naming the first entry that is neither.
 */
export function parseTrustedProxies(value: string | undefined): TrustedProxies {
  const entries = (value ?? "").split(",").map((entry) => entry.trim()).filter(Boolean);
  if (entries.length === 0) return null;
  const list = new BlockList();
  for (const entry of entries) {
    const [address = "", prefix, ...rest] = entry.split("/");
    const type = family(address);
    const bits = prefix === undefined ? null : Number(prefix);
    const maxBits = type === "ipv4" ? 32 : 128;
    if (
      type === null ||
      rest.length > 0 ||
      (bits !== null && !(/^\d+$/.test(prefix ?? "") && bits <= maxBits))
    ) {
      throw new Error(`TRUSTED_PROXIES: "${entry}" is not an IP address or a CIDR range (e.g. 10.0.0.0/8)`);
    }
    if (bits === null) list.addAddress(address, type);
    else list.addSubnet(address, bits, type);
  }
  return list;
}

function isTrusted(address: string, trusted: BlockList): boolean {
  const type = family(address);
  return type !== null && trusted.check(address, type);
}

/**
 * The client's address for a request that reached this server from `peer` (the socket's remote
 * address) with these `X-Forwarded-For` values (Node joins repeated fields with ", "), or null
 * when the socket has no address (already closed).
 */
export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  trusted: TrustedProxies,
): string | null {
  if (!peer) return null;
  let address = unmapped(peer);
  if (trusted === null || !isTrusted(address, trusted)) return address;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(",") : (forwardedFor ?? ""))
    .split(",")
    .map((hop) => hop.trim())
    .filter(Boolean);
  // Right to left: past the trusted proxies, the first address is the client's. An entry that
  // is not an address (`unknown`, garbage) ends the walk at the last proxy that can be vouched for.
  for (const hop of hops.reverse()) {
    const candidate = unmapped(hop);
    if (family(candidate) === null) return address;
    address = candidate;
    if (!isTrusted(candidate, trusted)) return address;
  }
  return address;
}

/**
 * Rewrites a request's headers in place, as they arrived from `peer`: CLIENT_ADDRESS_HEADER is
 * set to the client's address (or removed when there is none), and when the peer is not a
 * trusted proxy, FORWARDING_HEADERS are removed.
 */
export function applyClientAddress(
  headers: IncomingHttpHeaders,
  peer: string | undefined,
  trusted: TrustedProxies,
): void {
  const address = clientAddress(peer, headers["x-forwarded-for"], trusted);
  const fromProxy = peer !== undefined && trusted !== null && isTrusted(unmapped(peer), trusted);
  if (!fromProxy) {
    for (const name of FORWARDING_HEADERS) delete headers[name];
  }
  if (address === null) delete headers[CLIENT_ADDRESS_HEADER];
  else headers[CLIENT_ADDRESS_HEADER] = address;
}
