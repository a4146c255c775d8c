import Link from "next/link";

import { sendSignedInToTasks } from "@/lib/session";

export default async function Home() {
  await sendSignedInToTasks();
  return (
    <main className="mx-auto flex min-h-screen max-w-2xl flex-col justify-center gap-6 px-6 py-12">
      <h1 className="text-4xl font-bold tracking-tight">Tasks</h1>
      <p className="text-lg text-slate-600">
        Keep track of what you need to do. Your tasks are yours alone: every request carries a
        short-lived signed token, and the task service checks it before it shows you anything.
      </p>
      <div className="flex flex-wrap gap-3">
        <Link
          href="/signup"
          className="rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700"
        >
          Create an account
        </Link>
        <Link
          href="/login"
          className="rounded-md border border-slate-300 bg-white px-4 py-2 font-medium hover:bg-slate-100"
        >
          Sign in
        </Link>
      </div>
    </main>
  );
}
