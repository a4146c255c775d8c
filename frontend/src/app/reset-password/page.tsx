import type { Metadata } from "next";

import { InvalidResetLink } from "@/components/InvalidResetLink";
import { ResetPasswordForm } from "@/components/ResetPasswordForm";

export const metadata: Metadata = { title: "Choose a new password" };

/**
 * Where the e-mailed link leads: Better Auth's `/api/auth/reset-password/:token` checks the token
 * and redirects here with `?token=` when it is valid, `?error=INVALID_TOKEN` when not.
 */
export default async function ResetPasswordPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  const { token, error } = await searchParams;
  const valid = typeof token === "string" && token !== "" && error === undefined;
  return (
    <main className="mx-auto flex min-h-screen max-w-md flex-col justify-center px-6 py-12">
      <h1 className="mb-6 text-3xl font-bold tracking-tight">Choose a new password</h1>
      {valid ? <ResetPasswordForm token={token} /> : <InvalidResetLink />}
    </main>
  );
}
