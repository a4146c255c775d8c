/**
 * Serves the built app as `next start` does (same options: --port/-p, default $PORT or 3000;
 * --hostname/-H, default every interface; --keepAliveTimeout in ms; a graceful stop on SIGTERM
 * and SIGINT), with one addition Next.js cannot make itself: route handlers never see the TCP
 * peer's address, so this server writes the client's address into a private header before
 * Next.js sees the request (src/lib/client-address.ts; Next.js's "custom server" API).
 *
 *   node --import tsx server.ts --port 3000 [--hostname 127.0.0.1]
 *
 * TRUSTED_PROXIES (environment or .env files) names the proxies whose X-Forwarded-For is read.
 * Every line it logs is JSON (src/lib/log.ts), Next.js's own included.
 */
import { createServer } from "node:http";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";

import nextEnv from "@next/env";
import next from "next";

import { applyClientAddress, parseTrustedProxies, type TrustedProxies } from "./src/lib/client-address";
import { routeConsoleToLog, writeLog } from "./src/lib/log";

const dir = dirname(fileURLToPath(import.meta.url));
// Production only (development is `next dev`): Better Auth's rate limit, for one, is on only here.
Object.assign(process.env, { NODE_ENV: "production" });
routeConsoleToLog();
// The same .env files Next.js reads, here already, for TRUSTED_PROXIES.
nextEnv.loadEnvConfig(dir, false, { info: () => {}, error: console.error });

function fail(message: string): never {
  writeLog("error", "server", message);
  process.exit(2);
}

type Options = { port: number; hostname: string | undefined; keepAliveTimeout: number | undefined };

function readOptions(): Options {
  const { values } = parseArgs({
    options: {
      port: { type: "string", short: "p", default: process.env.PORT ?? "3000" },
      hostname: { type: "string", short: "H" },
      keepAliveTimeout: { type: "string" },
    },
  });
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) throw new Error(`--port: "${values.port}" is not a port number`);
  const keepAlive = values.keepAliveTimeout;
  if (keepAlive !== undefined && !/^\d+$/.test(keepAlive)) {
    throw new Error(`--keepAliveTimeout: "${keepAlive}" is not a number of milliseconds`);
  }
  return {
    port,
    hostname: values.hostname,
    keepAliveTimeout: keepAlive === undefined ? undefined : Number(keepAlive),
  };
}

let options: Options;
let trusted: TrustedProxies;
try {
  options = readOptions();
  trusted = parseTrustedProxies(process.env.TRUSTED_PROXIES);
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

const app = next({ dev: false, dir, hostname: options.hostname, port: options.port });
const handle = app.getRequestHandler();
await app.prepare();

const server = createServer((request, response) => {
  applyClientAddress(request.headers, request.socket.remoteAddress, trusted);
  handle(request, response).catch((error: unknown) => {
    console.error("request failed", error);
    if (!response.headersSent) response.statusCode = 500;
    response.end();
  });
});
if (options.keepAliveTimeout !== undefined) server.keepAliveTimeout = options.keepAliveTimeout;
server.on("error", (error) => fail(`cannot serve: ${error.message}`));
server.listen(options.port, options.hostname, () => {
  const address = server.address();
  const where = typeof address === "object" && address ? `${address.address} port ${address.port}` : String(address);
  writeLog("info", "server", `ready on ${where}`, [{ trustedProxies: process.env.TRUSTED_PROXIES ?? "" }]);
});

// As `next start`: stop taking connections, let requests in flight finish (idle keep-alive
// connections are closed by server.close), close Next.js, exit 128 + the signal's number.
let stopping = false;
for (const [signal, code] of [
  ["SIGINT", 130],
  ["SIGTERM", 143],
] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    server.close(() => {
      app.close().finally(() => process.exit(code));
    });
  });
}
