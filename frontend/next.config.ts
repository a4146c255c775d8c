import type { NextConfig } from "next";

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
        headers: [
          { key: "X-Content-Type-Options", value: "nosniff" },
          { key: "X-Frame-Options", value: "DENY" },
          { key: "Referrer-Policy", value: "strict-origin-when-cross-origin" },
          { key: "Permissions-Policy", value: "camera=(), microphone=(), geolocation=()" },
        ],
      },
    ];
  },
};

export default nextConfig;
