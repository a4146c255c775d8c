import type { Metadata } from "next";
import { headers } from "next/headers";
import { redirect } from "next/navigation";

import { TaskBoard } from "@/components/TaskBoard";
import { auth } from "@/lib/auth";

export const metadata: Metadata = { title: "Your tasks" };

export default async function TasksPage() {
  // The real check (proxy.ts only looked for a cookie): a cookie without a live session means
  // the session ended, and the login page says so.
  const session = await auth.api.getSession({ headers: await headers() });
  if (!session) redirect("/login?expired=1");
  return <TaskBoard userId={session.user.id} userName={session.user.name || session.user.email} />;
}
