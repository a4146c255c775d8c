import type { Metadata } from "next";

import { ForgotPasswordForm } from "@/components/ForgotPasswordForm";
import { sendSignedInToTasks } from "@/lib/session";

export const metadata: Metadata = { title: "Forgot password" };

export default async function ForgotPasswordPage() {
  await sendSignedInToTasks();
  return <ForgotPasswordForm />;
}
