import { headers } from "next/headers";
import { redirect } from "next/navigation";

import { auth } from "@/lib/auth";

/**
 * For the pages that only someone signed out needs (the front page, sign-in, sign-up): a person
 * with a live session goes straight to their tasks. Server side, with Better Auth's own check
 * (`auth.api.getSession`), so a stale cookie alone does not count.
 */
export async function sendSignedInToTasks(): Promise<void> {
  const session = await auth.api.getSession({ headers: await headers() });
  if (session) redirect("/tasks");
}
