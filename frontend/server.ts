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
import { describeMail } from "./src/lib/mail-settings";

type Settings = {
  port: number;
  hostname: string | undefined;
  keepAliveTimeout: number | undefined;
  trusted: TrustedProxies;
  /** Where e-mail goes (SMTP_URL, checked here). */
  mail: string;
};

const DIGITS = /^\d+$/;

/** The command line, TRUSTED_PROXIES and SMTP_URL; throws an Error that names what is wrong. */
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
  return {
    port,
    hostname: values.hostname,
    keepAliveTimeout: keepAlive === undefined ? undefined : Number(keepAlive),
    trusted: parseTrustedProxies(process.env.TRUSTED_PROXIES),
    mail: describeMail(),
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
  const { port, hostname, keepAliveTimeout, trusted, mail } = settings;

  markClientAddressServer(); // Better Auth may read the address header: this server sets it
  const app = next({ dev: false, dir, hostname, port });
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
  if (keepAliveTimeout !== undefined) server.keepAliveTimeout = keepAliveTimeout;
  server.on("error", (error) => fail(`cannot serve: ${error.message}`));
  server.listen(port, hostname, () => {
    const address = server.address();
    const where = typeof address === "object" && address ? `${address.address}:${address.port}` : address;
    writeLog("info", "server", `ready on ${where}`, [{ trustedProxies: process.env.TRUSTED_PROXIES ?? "", mail }]);
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
