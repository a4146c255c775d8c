import type { Metadata } from "next";

import { TwoFactorSignIn } from "@/components/TwoFactorSignIn";
import { sendSignedInToTasks } from "@/lib/session";

export const metadata: Metadata = { title: "Two-factor sign-in" };

/** The second step of signing in when two-factor sign-in is on: a code from the authenticator
 * app, or a backup code. The first step (AuthForm) left a signed challenge cookie, not a session. */
export default async function TwoFactorPage() {
  await sendSignedInToTasks();
  return <TwoFactorSignIn />;
}
