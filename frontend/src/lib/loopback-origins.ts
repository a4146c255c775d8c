const NAMES = ["localhost", "127.0.0.1", "[::1]"]; // as the URL parser writes them

/**
 * The other names of a local origin. On a local run one server answers at
 * http://localhost:3000 and http://127.0.0.1:3000 (Next prints the second), but Better Auth
 * accepts sign-up and sign-in only from its own origin (BETTER_AUTH_URL) and answers any other
 * with a bare "Invalid origin". Trusting the loopback names of that same origin
 * (`trustedOrigins`) lets a person sign in at whichever one they opened.
 *
 * Only for an origin on localhost, 127.0.0.1 or [::1], and only those three names with the same
 * scheme and port: each reaches this machine on that port, where `make run` first checks that
 * no other program listens (scripts/run.py). The list is fixed when the server starts, never
 * built from a request's Host header, so a forged Host gains nothing. For any other origin (a
 * real domain), none.
 */
export function loopbackAliases(origin: string): string[] {
  const url = new URL(origin);
  if (!NAMES.includes(url.hostname)) return [];
  const port = url.port ? `:${url.port}` : "";
  return NAMES.map((host) => `${url.protocol}//${host}${port}`).filter(
    (alias) => alias !== url.origin,
  );
}
