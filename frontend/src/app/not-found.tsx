import type { Metadata } from "next";
import Link from "next/link";

export const metadata: Metadata = { title: "Page not found" };

/** Any address the app does not have (Next.js answers it with a 404 status). The link leads to
 * the front page, which sends a signed-in person on to their tasks. */
export default function NotFound() {
  return (
    <main className="mx-auto flex min-h-screen max-w-2xl flex-col justify-center gap-6 px-6 py-12">
      <h1 className="text-4xl font-bold tracking-tight">Page not found</h1>
      <p className="text-lg text-slate-600">
        There is nothing at this address. It may have been mistyped, or the page may have moved.
      </p>
      <div>
        <Link
          href="/"
          className="inline-block rounded-md bg-indigo-600 px-4 py-2 font-medium text-white hover:bg-indigo-700"
        >
          Go to the home page
        </Link>
      </div>
    </main>
  );
}
