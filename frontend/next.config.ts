import type { NextConfig } from "next";

import { SITE_HEADERS } from "./src/lib/site-headers";

const nextConfig: NextConfig = {
  // Type errors and lint errors fail the build: nothing here ignores them.
  reactStrictMode: true,
  poweredByHeader: false,
  // better-sqlite3 and pg are native/Node-only, nodemailer Node-only: loaded from node_modules at run time.
  serverExternalPackages: ["better-sqlite3", "pg", "nodemailer"],
  async headers() {
    // The Content-Security-Policy, which needs a per-request nonce, is set in src/proxy.ts.
    return [
      {
        source: "/:path*",
        headers: Object.entries(SITE_HEADERS).map(([key, value]) => ({ key, value })),
      },
    ];
  },
};

export default nextConfig;
