import Link from "next/link";

import { Notice } from "@/components/ui";

/** What a link that was used, has expired or was mangled shows (Better Auth: INVALID_TOKEN). */
export function InvalidResetLink() {
  return (
    <Notice kind="error">
      This link has expired or was already used.{" "}
      <Link className="font-medium underline" href="/forgot-password">
        Ask for a new one
      </Link>
      .
    </Notice>
  );
}
