import type { Metadata } from "next";

import { AuthForm } from "@/components/AuthForm";
import { sendSignedInToTasks } from "@/lib/session";

export const metadata: Metadata = { title: "Sign in" };

export default async function LoginPage({
  searchParams,
}: {
  searchParams: Promise<Record<string, string | string[] | undefined>>;
}) {
  await sendSignedInToTasks();
  const { expired, reset, deleted } = await searchParams;
  return (
    <AuthForm
      mode="login"
      expired={expired === "1"}
      passwordReset={reset === "1"}
      accountDeleted={deleted === "1"}
    />
  );
}
