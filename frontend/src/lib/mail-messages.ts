import type { Mail } from "@/lib/mail";

/** The texts of the messages the app sends, in one place. Plain text: every client shows it, and
 * the link stays whole and clickable. */

/** The "Forgot password" message: `url` is Better Auth's one-time link (valid for an hour). */
export function resetPasswordMail(to: string, url: string): Mail {
  return {
    to,
    subject: "Reset your Tasks password",
    text: [
      "Someone, hopefully you, asked to reset the password of the Tasks account for this address.",
      "",
      "To choose a new password, open this link within an hour. It works once:",
      "",
      url,
      "",
      "Every place the account is signed in will be signed out.",
      "If you did not ask for this, ignore this message: your password stays as it is.",
    ].join("\n"),
  };
}
