import type { Metadata } from "next";
import { headers } from "next/headers";
import Link from "next/link";
import { redirect } from "next/navigation";

import { DeleteAccount } from "@/components/DeleteAccount";
import { TwoFactorSettings } from "@/components/TwoFactorSettings";
import { auth } from "@/lib/auth";

export const metadata: Metadata = { title: "Your account" };

/** The signed-in person's account settings: a plain list of sections, each a component of its own. */
export default async function AccountPage() {
  // As /tasks: proxy.ts only looked for a cookie; this is the real check.
  const session = await auth.api.getSession({ headers: await headers() });
  if (!session) redirect("/login?expired=1");
  const twoFactorEnabled = session.user.twoFactorEnabled === true;
  return (
    <main className="mx-auto max-w-2xl px-6 py-10">
      <header className="mb-6 flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-3xl font-bold tracking-tight">Your account</h1>
        <Link className="font-medium text-indigo-700 underline" href="/tasks">
          Back to your tasks
        </Link>
      </header>
      <div className="space-y-6">
        <TwoFactorSettings initiallyEnabled={twoFactorEnabled} />
        <DeleteAccount initiallyTwoFactor={twoFactorEnabled} />
      </div>
    </main>
  );
}
