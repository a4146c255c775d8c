import type { Metadata } from "next";

import { AuthForm } from "@/components/AuthForm";
import { sendSignedInToTasks } from "@/lib/session";

export const metadata: Metadata = { title: "Create an account" };

export default async function SignupPage() {
  await sendSignedInToTasks();
  return <AuthForm mode="signup" expired={false} />;
}
