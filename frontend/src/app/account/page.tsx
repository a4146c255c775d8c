import type { Metadata } from "next";
import { headers } from "next/headers";
import Link from "next/link";
import { redirect } from "next/navigation";

import { DeleteAccount } from "@/components/DeleteAccount";
import { DownloadData } from "@/components/DownloadData";
import { TwoFactorSettings } from "@/components/TwoFactorSettings";
import { EmailSection } from "@/components/account/EmailSection";
import { NameSection } from "@/components/account/NameSection";
import { PasswordSection } from "@/components/account/PasswordSection";
import { SessionsSection } from "@/components/account/SessionsSection";
import { auth } from "@/lib/auth";
import { sessionRows } from "@/lib/session-list";

export const metadata: Metadata = { title: "Your account" };

/**
 * The account page: one section per job, each a component of its own (components/account/),
 * composed here and nowhere else, so that more sections slot in. Each section reloads this page's
 * data (router.refresh) after a change.
 */
export default async function AccountPage() {
  const requestHeaders = await headers();
  // The real check (proxy.ts only looked for a cookie), as on /tasks.
  const session = await auth.api.getSession({ headers: requestHeaders });
  if (!session) redirect("/login?expired=1");
  const sessions = await auth.api.listSessions({ headers: requestHeaders });
  const { user } = session;
  const twoFactorEnabled = user.twoFactorEnabled === true;
  return (
    <main className="mx-auto max-w-2xl px-4 py-8 sm:px-6">
      <header className="mb-6 flex flex-wrap items-center justify-between gap-3">
        <h1 className="text-3xl font-bold tracking-tight">Your account</h1>
        <Link className="font-medium text-indigo-700 underline" href="/tasks">
          Back to your tasks
        </Link>
      </header>
      <div className="space-y-6">
        <NameSection name={user.name} />
        <EmailSection email={user.email} verified={user.emailVerified} />
        <PasswordSection />
        <SessionsSection sessions={sessionRows(sessions, session.session.id)} />
        <TwoFactorSettings initiallyEnabled={twoFactorEnabled} />
        <DeleteAccount
          initiallyTwoFactor={twoFactorEnabled}
          download={<DownloadData userId={user.id} placement="inline" />}
        />
      </div>
    </main>
  );
}
