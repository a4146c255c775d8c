import type { Metadata } from "next";
import Link from "next/link";

export const metadata: Metadata = { title: "E-mail address" };

/** Better Auth's `error` codes from GET /verify-email, in words. */
const FAILURES: Record<string, string> = {
  TOKEN_EXPIRED: "This link has expired. Sign in (or open your account page) to have a new one sent.",
  INVALID_USER: "This link belongs to another account than the one signed in here. Sign out, then open it again.",
};
const INVALID = "This link is not valid: it may have been cut short, or the account no longer exists.";

/**
 * Where the confirmation links lead once Better Auth's GET /verify-email has checked them
 * (the `callbackURL` the forms send): `?error=CODE` when the link failed, nothing when the
 * address is confirmed (or, for a change of address, changed).
 */
export default async function EmailVerifiedPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { error } = await searchParams;
  const failure = typeof error === "string" ? (FAILURES[error] ?? INVALID) : null;
  return (
    <main className="mx-auto flex min-h-screen max-w-md flex-col justify-center px-6 py-12">
      <h1 className="mb-6 text-3xl font-bold tracking-tight">
        {failure ? "The link did not work" : "Your e-mail address is confirmed"}
      </h1>
      <p role={failure ? "alert" : "status"} className="mb-6 text-slate-700">
        {failure ?? "Thank you: the address is confirmed, and it is the one your account uses now."}
      </p>
      <p className="flex gap-4">
        <Link className="font-medium text-indigo-700 underline" href="/tasks">
          Your tasks
        </Link>
        <Link className="font-medium text-indigo-700 underline" href="/account">
          Your account
        </Link>
      </p>
    </main>
  );
}
