import type { NextConfig } from "next";

const nextConfig: NextConfig = {
  // Type errors and lint errors fail the build: nothing here ignores them.
  reactStrictMode: true,
  poweredByHeader: false,
  // better-sqlite3 and pg are native/Node-only: load them from node_modules at run time.
  serverExternalPackages: ["better-sqlite3", "pg"],
};

export default nextConfig;
