/**
 * Serves the built app as `next start` does (the same options: --port/-p, default $PORT or 3000;
 * --hostname/-H, default every interface; --keepAliveTimeout in ms; the app in the working
 * directory; a graceful stop on SIGTERM and SIGINT), with one addition Next.js cannot make: its
 * route handlers never see the TCP peer's address, so this server writes the client's address
 * into a private header before Next.js sees the request (src/lib/client-address.ts), through
 * Next.js's "custom server" API.
 *
 *   npm run build                                      # also compiles this file (tsconfig.server.json)
 *   node .next/tasks-server/server.js --port 3000 [--hostname 127.0.0.1]
 *
 * TRUSTED_PROXIES (environment or .env files) names the proxies whose X-Forwarded-For is read.
 *
 * Slow clients (slowloris) are cut off: REQUEST_TIMEOUT_MS (default 30000) is the most a whole
 * request, body included, may take to arrive, HEADERS_TIMEOUT_MS (default 10000, at most the
 * former) the most its header section may; either gets 408 and the connection closed (Node.js
 * `server.requestTimeout` / `headersTimeout`, checked every second). MAX_CONNECTIONS (default
 * 1024) caps open connections; past it new ones are closed at once (`server.maxConnections`).
 * A slow connection held ~95 KB of memory (20,000 of them took 1.9 GB), so 1024 bound it to
 * ~100 MB, while a reverse proxy in front reuses far fewer.
 *
 * A method this app does not serve (405 or 501) or a path whose %-escapes do not decode (400)
 * is answered here with a JSON `detail`, before Next.js (src/lib/request-line.ts). The task API's
 * paths (`/api/{user_id}/tasks…`, `tags…`, `export`), written plainly, are forwarded here too,
 * by the route handlers' own rules: Next.js's request handling cost more CPU than the task API
 * itself (src/lib/task-api-forward.ts).
 * Every line it logs is JSON (src/lib/log.ts), Next.js's own included. A wrong option or
 * setting stops it with one line and exit code 2.
 */
import { createServer } from "node:http";
import { parseArgs } from "node:util";

import { loadEnvConfig } from "@next/env";
import next from "next";

import {
  applyClientAddress,
  markClientAddressServer,
  parseTrustedProxies,
  type TrustedProxies,
} from "./src/lib/client-address";
import { routeConsoleToLog, writeLog } from "./src/lib/log";
import { requireEmailVerification } from "./src/lib/auth-settings";
import { describeMail } from "./src/lib/mail-settings";
import { refuseRequestLine } from "./src/lib/request-line";
import { forwardNodeRequest, forwardsDirectly } from "./src/lib/task-api-forward";

type Settings = {
  port: number;
  hostname: string | undefined;
  keepAliveTimeout: number | undefined;
  trusted: TrustedProxies;
  requestTimeout: number;
  headersTimeout: number;
  maxConnections: number;
  /** Where e-mail goes (SMTP_URL, checked here). */
  mail: string;
  /** REQUIRE_EMAIL_VERIFICATION, checked here. */
  requireEmailVerification: boolean;
};

const DIGITS = /^\d+$/;

/** A positive whole number from the environment variable `name`, else `fallback`. */
function positiveSetting(name: string, fallback: number): number {
  const value = process.env[name];
  if (value === undefined || value === "") return fallback;
  if (!DIGITS.test(value) || Number(value) === 0) {
    throw new Error(`${name}: "${value}" is not a positive whole number`);
  }
  return Number(value);
}

/** The command line, TRUSTED_PROXIES, SMTP_URL, REQUIRE_EMAIL_VERIFICATION and the connection limits; throws an Error
 * that names what is wrong. */
function readSettings(): Settings {
  const { values } = parseArgs({
    options: {
      port: { type: "string", short: "p", default: process.env.PORT ?? "3000" },
      hostname: { type: "string", short: "H" },
      keepAliveTimeout: { type: "string" },
    },
  });
  const port = Number(values.port);
  if (!DIGITS.test(values.port) || port > 65535) {
    throw new Error(`--port: "${values.port}" is not a port number`);
  }
  const keepAlive = values.keepAliveTimeout;
  if (keepAlive !== undefined && !DIGITS.test(keepAlive)) {
    throw new Error(`--keepAliveTimeout: "${keepAlive}" is not a number of milliseconds`);
  }
  const requestTimeout = positiveSetting("REQUEST_TIMEOUT_MS", 30_000);
  const headersTimeout = positiveSetting("HEADERS_TIMEOUT_MS", Math.min(10_000, requestTimeout));
  if (headersTimeout > requestTimeout) {
    throw new Error(`HEADERS_TIMEOUT_MS (${headersTimeout}) must not be more than REQUEST_TIMEOUT_MS (${requestTimeout})`);
  }
  return {
    port,
    hostname: values.hostname,
    keepAliveTimeout: keepAlive === undefined ? undefined : Number(keepAlive),
    trusted: parseTrustedProxies(process.env.TRUSTED_PROXIES),
    requestTimeout,
    headersTimeout,
    maxConnections: positiveSetting("MAX_CONNECTIONS", 1024),
    mail: describeMail(),
    requireEmailVerification: requireEmailVerification(),
  };
}

function fail(message: string): never {
  writeLog("error", "server", message);
  process.exit(2);
}

async function main(): Promise<void> {
  const dir = process.cwd();
  // Production only (development is `next dev`): Better Auth's rate limit is on only here.
  Object.assign(process.env, { NODE_ENV: "production" });
  routeConsoleToLog();
  // The .env files Next.js reads, read already here for TRUSTED_PROXIES.
  loadEnvConfig(dir, false, { info: () => {}, error: console.error });

  let settings: Settings;
  try {
    settings = readSettings();
  } catch (error) {
    fail(error instanceof Error ? error.message : String(error));
  }
  const { port, hostname, keepAliveTimeout, trusted, mail, requestTimeout, headersTimeout } = settings;

  markClientAddressServer(); // Better Auth may read the address header: this server sets it
  const app = next({ dev: false, dir, hostname, port });
  const handle = app.getRequestHandler();
  await app.prepare();

  const server = createServer(
    {
      requestTimeout,
      headersTimeout,
      // How often Node.js checks those two (its default, 30 s, would let a request run 60 s).
      connectionsCheckingInterval: Math.min(1000, Math.ceil(headersTimeout / 4)),
    },
    (request, response) => {
      const refusal = refuseRequestLine(request.method ?? "", request.url ?? "");
      if (refusal) {
        writeLog("info", "server", `refused ${request.method} with ${refusal.status}`, [{ target: request.url }]);
        const body = JSON.stringify({ detail: refusal.detail });
        response
          .writeHead(refusal.status, { ...refusal.headers, "Content-Length": Buffer.byteLength(body) })
          .end(body);
        return;
      }
      // Ahead of the client address: no field of it is forwarded to the task API.
      if (forwardsDirectly(request.url ?? "")) {
        forwardNodeRequest(request, response);
        return;
      }
      applyClientAddress(request.headers, request.socket.remoteAddress, trusted);
      handle(request, response).catch((error: unknown) => {
        console.error("request failed", error);
        if (!response.headersSent) response.statusCode = 500;
        response.end();
      });
    },
  );
  server.maxConnections = settings.maxConnections;
  if (keepAliveTimeout !== undefined) server.keepAliveTimeout = keepAliveTimeout;
  server.on("error", (error) => fail(`cannot serve: ${error.message}`));
  server.listen(port, hostname, () => {
    const address = server.address();
    const where = typeof address === "object" && address ? `${address.address}:${address.port}` : address;
    writeLog("info", "server", `ready on ${where}`, [
      {
        trustedProxies: process.env.TRUSTED_PROXIES ?? "",
        mail,
        requireEmailVerification: settings.requireEmailVerification,
        requestTimeoutMs: requestTimeout,
        headersTimeoutMs: headersTimeout,
        maxConnections: settings.maxConnections,
      },
    ]);
  });

  // As `next start`: stop taking connections, let the requests in flight finish (server.close
  // closes idle keep-alive connections), close Next.js, exit with 128 + the signal's number.
  let stopping = false;
  const stop = (code: number) => {
    if (stopping) return;
    stopping = true;
    server.close(() => {
      app.close().finally(() => process.exit(code));
    });
  };
  process.on("SIGINT", () => stop(130));
  process.on("SIGTERM", () => stop(143));
}

main().catch((error: unknown) => {
  console.error("the server could not start", error);
  process.exit(1);
});
